"""The readiness report: the HTML print view and the PDF, as the PCN gets them."""

import re
import shutil
import subprocess

import pytest

from app.config import PROJECT_ROOT
from tests.conftest import page
from tests.helpers import complete_all, core, start

PDF_TOOLS = shutil.which("pdftotext") and shutil.which("pdfinfo")
# The report prints the scoring method from docs/scoring.md; its title shows the section is there.
METHOD_TITLE = next(
    line[2:].strip()
    for line in (PROJECT_ROOT / "docs" / "scoring.md").read_text().splitlines()
    if line.startswith("# ")
)


@pytest.fixture
def completed(app, cd_client) -> str:
    """A confirmed assessment (confirming also builds the plan); returns its base path."""
    base = start(cd_client)
    complete_all(cd_client, app, base, current="1", target="3")
    assert cd_client.post(f"{base}/check").status_code == 302
    return base


def test_results_show_both_charts_the_largest_gaps_and_the_next_steps(app, cd_client, completed):
    soup = page(cd_client.get(f"{completed}/results"))
    charts = soup.select("svg.app-chart[role=img]")
    assert len(charts) == 2
    for chart in charts:
        assert "Leadership: now 25%, target 75%" in chart.find("desc").get_text()
    text = soup.get_text(" ")
    assert "Your largest gaps" in text and "Early steps → In place" in text  # the scale's own level names
    links = {a.get_text(strip=True): a["href"] for a in soup.find_all("a")}
    assert links["View the report"] == f"{completed}/report"
    assert links["Download PDF"] == f"{completed}/report.pdf"
    assert any(href == f"{completed}/plan" for href in links.values())


def test_html_report_has_every_domain_and_every_month(app, cd_client, completed):
    response = cd_client.get(f"{completed}/report")
    assert response.status_code == 200
    soup = page(response)
    text = soup.get_text(" ")
    assert "Riverside PCN" in text and "U00001" in text and "Demo ICB" in text
    assert "Dr Asha Patel, Clinical director" in text
    headings = [h.get_text(" ", strip=True) for h in soup.find_all("h3")]
    for i, domain in enumerate(core(app).domains, start=1):
        assert f"{i}. {domain.title}" in headings
    for month in range(1, 7):
        assert f"Month {month}" in headings
    assert METHOD_TITLE in text
    # One table gives the figures of both summary charts, each domain once, as the results page does.
    summary_tables = soup.select("section.summary table")
    assert len(summary_tables) == 1
    headers = [th.get_text(strip=True) for th in summary_tables[0].select("thead th")]
    assert headers == ["Domain", "Now", "Band now", "Target", "Band at target", "Gap (points)"]
    assert len(summary_tables[0].select("tbody tr")) == len(core(app).domains) + 1  # and the overall row
    assert soup.select_one('link[rel=stylesheet][href$="report.css"]')
    assert "currentcolor" not in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("suffix", ["report", "report.pdf"])
def test_report_waits_for_confirmed_answers(cd_client, suffix):
    base = start(cd_client)
    response = cd_client.get(f"{base}/{suffix}")
    assert response.status_code == 302 and response.location == f"{base}/check"
    assert "Check and confirm your answers" in cd_client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize("suffix", ["report", "report.pdf"])
@pytest.mark.parametrize(
    ("client_name", "expected"),
    [("cd2_client", 404), ("icb_client", 403), ("lmc_client", 403), ("admin_client", 403), ("anon_client", 302)],
)
def test_only_the_pcn_sees_its_report(request, completed, suffix, client_name, expected):
    response = request.getfixturevalue(client_name).get(f"{completed}/{suffix}")
    assert response.status_code == expected


def test_a_colleague_in_the_same_pcn_can_download_it(manager_client, completed):
    response = manager_client.get(f"{completed}/report")
    assert response.status_code == 200


def test_the_pdf_renderer_loads_local_static_files_only(app):
    from app.services.reports import STYLESHEET, _get_renderer

    fetcher = _get_renderer().fetcher
    assert fetcher.fetch(STYLESHEET.as_uri()).read().startswith(b"/*")
    # Refused at once, not waited for: an unreachable font host would otherwise cost seconds per render.
    for url in ("https://assets.nhs.uk/fonts/frutiger.woff2", "file:///etc/passwd", "data:text/css,body{}"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def _pdf_info(pdf: bytes) -> dict[str, str]:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return dict(re.findall(r"^([\w ]+):\s+(.*)$", info, re.M))


def _pdf_text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


@pytest.mark.skipif(not PDF_TOOLS, reason="needs pdftotext and pdfinfo (poppler-utils)")
def test_pdf_has_every_part_and_nothing_drawn_invisible(app, cd_client, completed):
    response = cd_client.get(f"{completed}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="riverside-pcn-readiness-report-\d{4}-\d{2}-\d{2}\.pdf"', disposition)

    info = _pdf_info(response.data)
    pages = int(info["Pages"])
    assert pages >= 5
    assert info["Page size"].endswith("(A4)")
    assert info["Tagged"] == "yes"  # a structure tree for screen readers, charts described by their titles
    assert info["Title"] == "Neighbourhood readiness report – Riverside PCN"
    text = _pdf_text(response.data)
    flat = re.sub(r"\s+", " ", text)
    for domain in core(app).domains:
        assert domain.title in flat, domain.title
    for month in range(1, 7):
        assert f"Month {month}" in flat
    assert "Riverside PCN" in flat and "Demo ICB" in flat
    assert "Page 1 of" in flat and f"Page {pages} of {pages}" in flat
    assert METHOD_TITLE in flat
    assert text.count("\f") >= pages - 1
