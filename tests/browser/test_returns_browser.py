"""ICB readiness returns in a real browser, as the demo accounts would use them.

icb@example.org sets up a round with the local supplement; cd@example.org answers both questionnaires and submits;
the ICB lead sees the return on the dashboard and the heatmap, opens it and its PDF, reminds the rest and downloads
the CSV, the XLSX and the PDF pack. cd2@example.org cannot open cd's return; lmc@example.org sees no drafts.
Screenshots of the dashboard, heatmap and drill-down go to test-artifacts/. axe checks each ICB page.
"""

import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from app.questionnaires.loader import load_directory
from tests.browser.conftest import ROOT, assert_accessible, screenshot, sign_in
from tests.browser.test_journey_browser import answer_quickly

pytestmark = pytest.mark.browser

TITLE = "Browser test return, winter"
SUPPLEMENT = "Kent and Medway"


def _fill_date(page: Page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def _download(page: Page, name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=name).click()
    return open(info.value.path(), "rb").read()


def _wait_for_job(page: Page) -> None:
    expect(page.get_by_role("main")).to_contain_text(re.compile("Finished at|Ready at"), timeout=60_000)


def test_a_round_from_setting_up_to_the_pdf_pack(new_page):
    today = date.today()
    icb = new_page()
    sign_in(icb, "icb@example.org")
    icb.get_by_role("link", name="Set up a round").first.click()
    assert_accessible(icb, "the round form")
    icb.get_by_label("Title").fill(TITLE)
    icb.get_by_role("group", name="Local supplement").get_by_text(SUPPLEMENT, exact=False).click()
    _fill_date(icb, "Opening date", today)
    _fill_date(icb, "Closing date", today + timedelta(days=14))
    icb.get_by_role("button", name="Set up the round").click()
    expect(icb.get_by_role("heading", level=1)).to_have_text(TITLE)
    dashboard = icb.url

    cd = new_page()
    sign_in(cd, "cd@example.org")
    card = cd.locator(".app-round-card").filter(has_text=TITLE)
    expect(card).to_contain_text("Closing date")
    card.get_by_role("button").click()
    expect(cd.get_by_role("heading", level=1)).to_have_text("Your assessment")
    expect(cd.get_by_role("heading", level=2).filter(has_text=SUPPLEMENT)).to_be_visible()
    task_list = cd.url
    sections = cd.locator(".nhsuk-task-list__item").count()
    shipped = load_directory(ROOT / "questionnaires")
    expected = len(shipped["neighbourhood-readiness"].domains) + len(shipped["kent-medway-snh-supplement"].domains)
    assert sections == expected  # the core's domains, then the supplement's
    with cd.expect_navigation():
        cd.locator(".nhsuk-task-list__link").first.click()
    for _ in range(sections):
        answer_quickly(cd)
        with cd.expect_navigation():
            cd.get_by_role("button", name="Save and continue").click()
    expect(cd.get_by_role("heading", level=1)).to_have_text("Check your answers")
    cd.get_by_role("button", name="Confirm and see results").click()
    expect(cd.get_by_role("heading", level=1)).to_have_text("Your readiness results")
    expect(cd.get_by_text("scored separately").first).to_be_visible()
    cd.get_by_role("link", name="Submit your return").click()
    assert_accessible(cd, "the submit page")
    cd.get_by_role("button", name="Submit the return").click()
    expect(cd.locator(".nhsuk-error-summary")).to_contain_text("agreed view")
    cd.get_by_label("These answers reflect the PCN's agreed view").check()
    cd.get_by_role("button", name="Submit the return").click()
    expect(cd.get_by_text("is submitted").first).to_be_visible()

    icb.goto(dashboard)
    row = icb.locator("table.app-returns tbody tr").filter(has_text="Riverside PCN")
    expect(row).to_contain_text("Submitted")
    expect(row).to_contain_text("25%")
    assert_accessible(icb, "the dashboard")
    screenshot(icb, "returns-dashboard")
    icb.get_by_role("link", name="Readiness now").click()  # sort by a column, by following its link
    expect(icb.locator("th[aria-sort]")).to_contain_text("Readiness now")

    icb.get_by_role("link", name="Heatmap").click()
    expect(icb.locator("table.app-heatmap")).to_contain_text("Riverside PCN")
    assert_accessible(icb, "the heatmap")
    screenshot(icb, "returns-heatmap")

    icb.locator("table.app-heatmap").get_by_role("link", name="Riverside PCN").click()
    expect(icb.get_by_role("heading", level=1)).to_contain_text("Riverside PCN")
    expect(icb.get_by_text("These answers reflect the PCN's agreed view")).to_be_visible()
    assert_accessible(icb, "a submitted return")
    screenshot(icb, "returns-drill-down")
    drill_down = icb.url
    assert _download(icb, "Download the PDF report").startswith(b"%PDF")

    # Another PCN's clinical director cannot open the return, nor cd's assessment.
    other = new_page()
    sign_in(other, "cd2@example.org")
    assert other.goto(drill_down).status == 403
    assert other.goto(task_list).status == 404
    # The LMC sees no drafts: nothing of the round's returns at all, yet.
    lmc = new_page()
    sign_in(lmc, "lmc@example.org")
    expect(lmc.get_by_role("main")).not_to_contain_text("Riverside PCN's return")
    assert lmc.goto(dashboard).status == 403

    icb.goto(dashboard)
    icb.get_by_role("link", name="Chase list").click()
    expect(icb.locator("#chase-emails")).to_contain_text("cd2@example.org")
    assert_accessible(icb, "the chase list")
    icb.get_by_label("Reminder").fill("Please submit by the closing date. Thank you.")
    icb.get_by_role("button", name="Send the reminder").click()
    _wait_for_job(icb)
    icb.goto(dashboard)
    icb.get_by_role("link", name="Chase list").click()
    expect(icb.locator("table").first).not_to_contain_text("Not yet")

    icb.goto(dashboard)
    wide = _download(icb, "Returns, one row per PCN (CSV)").decode()
    assert "Riverside PCN" in wide.splitlines()[1] or "Riverside PCN" in wide
    long = _download(icb, "Answers, one row per answer (CSV)").decode()
    shipped = load_directory(ROOT / "questionnaires")
    questions = shipped["neighbourhood-readiness"].question_count + shipped["kent-medway-snh-supplement"].question_count
    assert long.count("Riverside PCN") == questions  # one row per answer, core and supplement
    book = load_workbook(io.BytesIO(_download(icb, "Returns and answers (XLSX, two sheets)")))
    assert book.sheetnames == ["Returns", "Answers"]
    icb.get_by_role("button", name="Make a PDF pack of every submitted return").click()
    _wait_for_job(icb)
    pack = _download(icb, re.compile("^Download .*zip"))
    assert any("U00001" in name for name in zipfile.ZipFile(io.BytesIO(pack)).namelist())


def test_a_bad_roster_file_is_refused_with_every_bad_row_listed(new_page):
    from tests.roster_support import HEADER

    rows = [
        ",".join(HEADER),
        "A00001,PRACTICE ONE,90A,NORTH,U12345,NEW PCN,90A,NORTH,20200401,,Y",
        "A00002,PRACTICE TWO,90A,NORTH,U1234,SHORT CODE PCN,90A,NORTH,20200401,,Y",  # malformed PCN code
        "A00003,PRACTICE THREE,90A,NORTH,U12345,ANOTHER NAME,90A,NORTH,20200401,,Y",  # one code, two names
        "A00004,PRACTICE FOUR,99Z,ELSEWHERE,U22222,FAR PCN,99Z,ELSEWHERE,20200401,,Y",  # not this ICB's
    ]
    icb = new_page()
    sign_in(icb, "icb@example.org")
    icb.get_by_role("link", name="Your sub-ICB locations and PCNs").click()
    before = icb.locator("main").inner_text()
    icb.get_by_role("link", name=re.compile("Import")).first.click()
    icb.locator("input[type=file]").set_input_files(
        {"name": "roster.csv", "mimeType": "text/csv", "buffer": "\r\n".join(rows).encode("utf-8-sig")}
    )
    icb.get_by_role("button", name="Upload and check the file").click()
    problems = icb.locator("table").filter(has_text="Problem")
    expect(problems).to_contain_text("U1234")
    body = problems.locator("tbody tr")
    lines = {body.nth(i).locator("td").first.inner_text() for i in range(body.count())}
    assert {"3", "4", "5"} <= lines  # every bad row, by its line in the file
    assert_accessible(icb, "the import page with problems")
    screenshot(icb, "roster-import-problems")
    icb.goto("/organisations")
    assert icb.locator("main").inner_text() == before  # nothing was imported
    expect(icb.locator("main")).not_to_contain_text("New PCN")


def test_an_icb_lead_makes_an_api_token_and_reads_the_rounds_with_it(new_page, live_server):
    import json
    import urllib.request

    icb = new_page()
    sign_in(icb, "icb@example.org")
    icb.goto("/account")
    icb.get_by_label("Token name").fill("Power BI")
    icb.get_by_role("button", name="Make token").click()
    token = icb.locator("code.app-token").inner_text().strip()
    assert token.startswith("pcnr_")
    assert_accessible(icb, "the account page with a new token")
    request = urllib.request.Request(f"{live_server}/api/v1/rounds", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        rounds = json.load(response)
    titles = json.dumps(rounds)
    assert "Neighbourhood readiness return, winter 2026" in titles  # the demo round the dashboard shows
    icb.goto("/account")
    expect(icb.locator("code.app-token")).to_have_count(0)  # shown once only
    expect(icb.get_by_role("table", name="Your tokens")).to_contain_text("Power BI")
