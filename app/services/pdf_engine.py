"""Two ways the report's PDF is made faster than WeasyPrint makes it by default, with the same pages.

tests/benchmarks/pdf_benchmark.py measures each against WeasyPrint's own way, and tests/web/test_pdf_engine.py
checks that each gives the same pages.

- **Parsing.** WeasyPrint parses HTML with tinyhtml5, a complete HTML5 parser written in Python: about 30 ms for a
  full report, a twentieth of its render. The report's HTML is ours, from one template, and is also well-formed
  XML once its void elements (`<meta>`, `<col>`, `<br>`) are closed, so the standard library's expat parser reads
  it in about 2 ms into the same tree. HTML that is not well-formed XML goes to tinyhtml5 as before.
- **Compression.** pydyf, which writes WeasyPrint's PDF, deflates every stream at zlib's level 9. For a report's
  page content and fonts that takes about 35 ms and saves 3% of the file over zlib's default level 6, which takes
  about 9 ms. Streams are deflated at level 6.
"""

import html.entities
import logging
import re
import xml.etree.ElementTree as ElementTree
import zlib

log = logging.getLogger(__name__)

# Elements that HTML writes without an end tag.
_VOID = re.compile(r"<(area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr)\b([^>]*?)/?>")
# Named character references that HTML knows and XML does not (such as &nbsp;), written as numeric ones.
_NAMED = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_NAMED = {"amp", "lt", "gt", "quot", "apos"}


def _numeric(match: re.Match) -> str:
    name = match.group(1)
    text = html.entities.html5.get(name + ";")
    if name in _XML_NAMED or text is None:
        return match.group(0)  # XML's own, or unknown to HTML as well (expat then refuses it)
    return "".join(f"&#{ord(char)};" for char in text)


def parse_html(source: str) -> ElementTree.Element | None:
    """The element tree tinyhtml5 would build for this HTML (with `namespace_html_elements=False`), or None when
    the HTML is not well-formed XML once its void elements are closed.

    For well-formed HTML the two trees differ only in whitespace outside <body> and in the `xmlns` attribute of
    inline SVG, which WeasyPrint reads from the element's tag instead. This function puts that whitespace where
    HTML does, so the trees compare equal apart from `xmlns` (tests/conftest.py checks every report the suite
    renders).
    """
    parser = ElementTree.XMLParser()
    try:
        parser.feed(_NAMED.sub(_numeric, _VOID.sub(r"<\1\2/>", source)))
        root = parser.close()
    except ElementTree.ParseError as error:
        log.warning("Report HTML is not well-formed XML (%s): parsed with tinyhtml5 instead", error)
        return None
    if root.tag != "html":
        return None
    # As HTML parses it: whitespace between <html>, <head> and <body> is dropped, and whitespace after </body>
    # (and after </html>, which XML leaves out of the tree) belongs to the body's last element.
    root.text = None
    body = root.find("body")
    if body is not None and len(body):
        after = (body.tail or "") + source[source.rfind(">") + 1 :]
        if after and not after.strip():
            body[-1].tail = (body[-1].tail or "") + after
    for child in root:
        child.tail = None
    for element in root.iter("pre"):  # HTML drops a newline straight after <pre>
        if element.text and element.text.startswith("\n"):
            element.text = element.text[1:]
    return root


def html_document(weasyprint, source: str, base_url: str, url_fetcher):
    """A `weasyprint.HTML` for this source: parsed by `parse_html` where it can be, by tinyhtml5 where not."""
    root = parse_html(source)
    if root is None:
        return weasyprint.HTML(string=source, base_url=base_url, url_fetcher=url_fetcher)
    return _ParsedHTML.make(weasyprint, root, base_url, url_fetcher)


class _ParsedHTML:
    """Builds a `weasyprint.HTML` from a parsed tree: WeasyPrint's own constructor parses a string or file."""

    @staticmethod
    def make(weasyprint, root, base_url, url_fetcher):
        import cssselect2

        document = weasyprint.HTML.__new__(weasyprint.HTML)
        # What weasyprint.HTML.__init__ sets after parsing (WeasyPrint 70); tests/web/test_pdf_engine.py renders
        # both ways and compares them.
        document.base_url = base_url
        document.url_fetcher = url_fetcher
        document.media_type = "print"
        document.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        document.etree_element = document.wrapper_element.etree_element
        return document


# Compression -------------------------------------------------------------------------------------------------------

DEFLATE_LEVEL = 6  # zlib's default


class _Deflate:
    """The zlib module as pydyf sees it, with every compressor made at DEFLATE_LEVEL; it counts them, so a test can
    tell that pydyf still makes its compressors through it."""

    def __init__(self):
        self.compressors = 0

    def compressobj(self, level=zlib.Z_DEFAULT_COMPRESSION, *args, **kwargs):
        self.compressors += 1
        return zlib.compressobj(DEFLATE_LEVEL, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(zlib, name)


def use_default_deflate_level() -> _Deflate:
    """Makes pydyf deflate at DEFLATE_LEVEL from now on, in this process; returns the stand-in it now uses."""
    import pydyf

    if not isinstance(pydyf.zlib, _Deflate):
        pydyf.zlib = _Deflate()
    return pydyf.zlib
