"""How the report's PDF is made faster (app/services/pdf_engine.py): the same tree and the same pages as WeasyPrint
makes by its own parser, and every stream still compressed. tests/conftest.py also checks the parse on every PDF
report the suite renders."""

import logging
import re
import shutil
import subprocess

import pytest

from app.services import pdf_engine, reports
from app.services.pdf_engine import parse_html  # the function itself: tests/conftest.py wraps the module's
from tests.helpers import core, domain_data, start
from tests.pdf_trees import as_weasyprint_parses, tree

PDF_TOOLS = shutil.which("pdftotext") and shutil.which("pdfinfo")
# Markup the report's template and its Markdown can give: void elements written both ways, the named characters
# HTML has and XML lacks, characters escaped as Jinja escapes them, inline SVG, a <pre> starting on a new line,
# and text in other scripts.
AWKWARD = """<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>Report – O&#39;Brien &amp; Partners</title>
  <meta name="description" content="&lt;b&gt; is not bold &quot;here&quot;"/>
</head>
<body class="report">
<main>
  <p>Non&nbsp;breaking, an arrow &rarr; and → and an emoji 🏥, 中文 and عربى.<br>A new line.<br/>Another.</p>
  <table><colgroup><col class="a"><col class="b"/></colgroup><tbody><tr><td>1</td><td>2</td></tr></tbody></table>
  <figure><svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 10 10"><title>A chart</title>
    <text x="1" y="2" font-size="3">39% → 81%</text><path d="M0,0 L1,1"/></svg></figure>
  <pre>
first line kept, the newline before it is not</pre>
  <hr>
</main>
</body>
</html>
"""


def test_awkward_markup_parses_to_the_tree_weasyprint_builds():
    root = parse_html(AWKWARD)
    assert root is not None
    assert tree(root) == as_weasyprint_parses(AWKWARD)
    text = "".join(root.itertext())
    assert "Non\xa0breaking" in text and "→ and →" in text and "O'Brien & Partners" in text


def test_html_that_is_not_xml_goes_to_weasyprints_own_parser(caplog, monkeypatch):
    import weasyprint

    monkeypatch.setattr(pdf_engine, "parse_html", parse_html)  # without the check that every report is XML
    loose = "<!DOCTYPE html><html><body><p>One<p>Two <b>bold</body></html>"
    with caplog.at_level(logging.WARNING, logger="app.services.pdf_engine"):
        assert parse_html(loose) is None
        document = pdf_engine.html_document(weasyprint, loose, "file:///", None)
    assert "parsed with tinyhtml5 instead" in caplog.text
    assert [p.text for p in document.etree_element.iter("p")] == ["One", "Two "]


def test_a_document_from_the_parsed_tree_is_what_weasyprints_constructor_makes(app):
    import weasyprint

    fetcher = reports._get_renderer().fetcher
    ours = pdf_engine.html_document(weasyprint, AWKWARD, "file:///static/", fetcher)
    theirs = weasyprint.HTML(string=AWKWARD, base_url="file:///static/", url_fetcher=fetcher)
    assert type(ours) is type(theirs)
    assert set(vars(ours)) == set(vars(theirs))
    assert (ours.base_url, ours.url_fetcher, ours.media_type) == (theirs.base_url, theirs.url_fetcher, "print")
    assert tree(ours.etree_element) == as_weasyprint_parses(AWKWARD)


def _pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return out.decode()


def _pages(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


@pytest.mark.skipif(not PDF_TOOLS, reason="needs pdftotext and pdfinfo (poppler-utils)")
def test_a_full_report_has_the_same_pages_either_way_and_is_still_compressed(app, cd_client, monkeypatch):
    base = start(cd_client)
    note = "Agreed at the board <in principle> & \"subject to\" terms; see O'Brien's note → next month."
    for domain in core(app).domains:
        data = domain_data(domain, "1", "3", note=note)
        assert cd_client.post(f"{base}/domains/{domain.id}", data=data).status_code == 302
    assert cd_client.post(f"{base}/check").status_code == 302
    assessment_id = int(base.rstrip("/").split("/")[-1])
    with app.app_context(), app.test_request_context():
        from app.extensions import db
        from app.models import Assessment

        renderer = reports._get_renderer()
        html = reports.pdf_html(reports.report_context(db.session.get(Assessment, assessment_id)))
        compressors = renderer.deflate.compressors
        fast = renderer.pdf(html)
        assert renderer.deflate.compressors > compressors  # pydyf still makes its compressors through ours
        monkeypatch.setattr(pdf_engine, "parse_html", lambda source: None)  # WeasyPrint's own parser
        slow = renderer.pdf(html)
    assert _pages(fast) == _pages(slow) >= 5
    assert _pdf_text(fast) == _pdf_text(slow)
    assert note.replace('"', "") in " ".join(_pdf_text(fast).replace('"', "").split())
