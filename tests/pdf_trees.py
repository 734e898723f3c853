"""What the report's own HTML parser must give: the tree WeasyPrint's parser (tinyhtml5) gives for the same HTML."""

import tinyhtml5

XMLNS = "{http://www.w3.org/2000/xmlns/}"


def tree(element, path: str = "") -> list[tuple]:
    """Every element in document order: its path, attributes, text and tail. tinyhtml5 keeps an inline SVG's
    `xmlns` as an attribute as well as in the tag; WeasyPrint reads the tag, so that attribute is left out."""
    here = f"{path}/{element.tag}"
    attributes = {key: value for key, value in element.attrib.items() if not key.startswith(XMLNS)}
    rows = [(here, attributes, element.text, element.tail)]
    for child in element:
        rows.extend(tree(child, here))
    return rows


def as_weasyprint_parses(source: str) -> list[tuple]:
    root = tinyhtml5.parse(source, namespace_html_elements=False)
    root.text = None  # whitespace outside <body>, which pdf_engine.parse_html drops
    for child in root:
        child.tail = None
    return tree(root)
