"""Small things a user would notice: markup shown as text, times an hour out."""

import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Assessment, DomainProgress
from tests.conftest import page
from tests.helpers import complete_all, core, domain_data, start


def test_check_page_on_an_incomplete_assessment_says_what_to_complete_in_plain_words(app, cd_client):
    base = start(cd_client)
    first = core(app).domains[0]
    assert cd_client.post(f"{base}/domains/{first.id}", data=domain_data(first)).status_code == 302

    response = cd_client.get(f"{base}/check")
    soup = page(response)
    callout = soup.select_one(".nhsuk-card--warning")
    assert callout is not None
    text = callout.get_text(" ", strip=True)
    assert "<p>" not in text and "&lt;p&gt;" not in response.get_data(as_text=True)
    paragraph = callout.find("p")
    assert paragraph is not None and paragraph.get_text(strip=True).startswith("Complete ")
    assert core(app).domains[1].title in paragraph.get_text()
    assert first.title not in paragraph.get_text()


# Stored in UTC; shown on a UK clock. 14:26 UTC is 15:26 in British Summer Time and 14:26 in winter.
UK_CLOCK = [
    (datetime(2026, 7, 14, 14, 26, tzinfo=UTC), "15:26"),
    (datetime(2026, 1, 14, 14, 26, tzinfo=UTC), "14:26"),
]
# Half past eleven at night UTC is already the next day in summer, still the same day in winter.
UK_DAY = [
    (datetime(2026, 7, 14, 23, 30, tzinfo=UTC), "15 July 2026"),
    (datetime(2026, 1, 14, 23, 30, tzinfo=UTC), "14 January 2026"),
]


@pytest.mark.parametrize(("saved_at", "shown"), UK_CLOCK)
def test_a_colleagues_save_time_is_shown_on_a_uk_clock(app, cd_client, manager_client, saved_at, shown):
    base = start(cd_client)
    domain = core(app).domains[0]
    assert (
        cd_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, note="Director's view")).status_code
        == 302
    )
    with app.app_context():
        db.session.execute(
            update(DomainProgress).where(DomainProgress.domain_id == domain.id).values(updated_at=saved_at)
        )
        db.session.commit()

    response = manager_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, note="Manager's view"))
    assert response.status_code == 409
    conflict = " ".join(page(response).select_one("#conflict").get_text(" ").split())
    assert f"saved answers for {domain.title} at {shown}." in conflict


@pytest.mark.parametrize(("started_at", "shown"), UK_DAY)
def test_the_day_an_assessment_started_is_the_day_in_the_uk(app, cd_client, started_at, shown):
    start(cd_client)
    with app.app_context():
        db.session.execute(update(Assessment).values(created_at=started_at))
        db.session.commit()

    text = " ".join(page(cd_client.get("/")).get_text(" ").split())
    assert f"Started {shown}." in text


@pytest.mark.parametrize(("completed_at", "shown"), UK_DAY)
def test_the_report_gives_the_day_it_was_completed_in_the_uk(app, cd_client, completed_at, shown):
    base = start(cd_client)
    complete_all(cd_client, app, base)
    assert cd_client.post(f"{base}/check").status_code == 302
    with app.app_context():
        db.session.execute(update(Assessment).values(completed_at=completed_at))
        db.session.commit()

    soup = page(cd_client.get(f"{base}/report"))
    assert soup.select_one(".completed-on").get_text(strip=True) == shown
    day = datetime.strptime(shown, "%d %B %Y").date().isoformat()
    assert soup.select_one('meta[name="dcterms.created"]')["content"] == day
    assert f"Assessment completed {shown}" in page(cd_client.get("/")).get_text(" ")
    disposition = cd_client.get(f"{base}/report.pdf").headers["Content-Disposition"]
    assert disposition.endswith(f'-{day}.pdf"')


PDF_TOOLS = all(shutil.which(tool) for tool in ("pdffonts", "pdftotext", "fc-list"))
WORLD_NOTE = "会议 🙂"  # Chinese ("meeting") and an emoji, as people type them into notes


def _squash(name: str) -> str:
    return "".join(name.split()).replace("-", "").lower()


def _embedded_fonts(pdf: bytes) -> set[str]:
    """The fonts embedded in a PDF, as WeasyPrint names them ("ABCDEF+Liberation-Sans-Bold"), squashed."""
    listing = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    rows = listing.splitlines()[2:]  # a header, then a line of dashes
    return {_squash(row.split()[0].split("+", 1)[-1]) for row in rows if row.split()}


def _families_covering(char: str) -> set[str]:
    """The installed font families that have a glyph for this character, squashed."""
    listing = subprocess.run(
        ["fc-list", f":charset={ord(char):x}", "family"], capture_output=True, check=True, text=True
    ).stdout
    return {_squash(family) for line in listing.splitlines() for family in line.split(",")}


@pytest.mark.skipif(not PDF_TOOLS, reason="needs poppler-utils and fontconfig")
def test_chinese_and_emoji_in_a_note_are_drawn_in_the_pdf(app, cd_client, tmp_path):
    base = start(cd_client)
    for domain in core(app).domains:
        data = domain_data(domain, note=WORLD_NOTE)
        assert cd_client.post(f"{base}/domains/{domain.id}", data=data).status_code == 302
    assert cd_client.post(f"{base}/check").status_code == 302

    pdf = cd_client.get(f"{base}/report.pdf").data
    (tmp_path / "report.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert f"Note: {WORLD_NOTE}" in " ".join(text.split())
    # Each character is drawn from a font that has it, not as the empty box of a font that lacks it.
    embedded = _embedded_fonts(pdf)
    for char in sorted(set(WORLD_NOTE) - {" "}):
        families = _families_covering(char)
        assert any(font.startswith(family) for font in embedded for family in families), (char, embedded)
