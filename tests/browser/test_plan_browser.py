"""The action plan as a clinical director uses it: edit actions, change an answer, update the plan, get the PDF."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, assert_accessible, screenshot, sign_in
from tests.browser.test_journey_browser import answer_quickly, core_domains, open_assessment

pytestmark = pytest.mark.browser


def _complete(page: Page) -> str:
    """Answer every domain (level 1 now, level 2 target) and confirm; returns the results page address."""
    open_assessment(page)
    page.get_by_role("link", name=core_domains()[0].title, exact=True).click()
    for spec in core_domains():
        expect(page.get_by_role("heading", level=1)).to_have_text(spec.title)
        answer_quickly(page, now="1", target="2")
        page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Confirm and see results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your readiness results")
    return page.url


def month_rows(page: Page, month: int):
    """The rows of a month's table: the first table after the month's heading (a note on its load may come between)."""
    return page.locator(f"#month-{month}").locator("xpath=following-sibling::table[1]").locator("tbody tr")


def _edit(page: Page, row, **changes) -> None:
    row.get_by_role("link", name=re.compile("^Edit")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit an action")
    if "title" in changes:
        page.get_by_label("Action", exact=True).fill(changes["title"])
    if "owner" in changes:
        page.get_by_label("Owner").fill(changes["owner"])
    if "month" in changes:
        page.get_by_label("Month", exact=True).select_option(label=changes["month"])
    if "status" in changes:
        page.get_by_role("group", name="Status").get_by_text(changes["status"], exact=True).click()
    page.get_by_role("button", name="Save action").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your six-month action plan")


def test_edit_the_plan_change_an_answer_update_and_download_the_pdf(page):
    sign_in(page, "cd3@example.org")
    results = _complete(page)
    page.goto(results.replace("/results", "/plan"))
    questions = sum(len(d.questions) for d in core_domains())  # one step each, from level 1 to level 2
    expect(page.get_by_text(f"{questions} actions: 0 done, 0 in progress, {questions} not started")).to_be_visible()
    for month in range(1, 7):  # each month with its load against the PCN's capacity in days
        expect(page.get_by_role("heading", name=re.compile(rf"^Month {month}: \d+ of \d+ days$"))).to_be_visible()
    assert_accessible(page, "action plan")
    screenshot(page, "plan")

    month_one = month_rows(page, 1)
    _edit(page, month_one.nth(0), owner="Dr Leah Morgan", status="In progress")
    _edit(page, month_rows(page, 1).nth(1), title="Agree the leadership route at the away day",
          month="Month 4")  # fmt: skip
    expect(page.get_by_text("1 in progress")).to_be_visible()
    moved = month_rows(page, 4).filter(has_text="Agree the leadership route at the away day")
    expect(moved).to_have_count(1)

    # Raise one target: the plan needs two more steps for that question.
    page.goto(results.replace("/results", ""))
    page.get_by_role("link", name=core_domains()[-1].title, exact=True).click()
    first = page.get_by_role("main").get_by_role("region").first
    first.get_by_role("group", name=re.compile("^Where do you want to be in six months")).get_by_text(
        "Embedded", exact=True
    ).click()
    page.get_by_role("button", name="Save and come back later").click()
    page.goto(results.replace("/results", "/plan"))
    expect(page.get_by_text("Your answers have changed since this plan was made")).to_be_visible()
    page.get_by_role("button", name="Update the plan from your answers").click()
    expect(page.get_by_text("Your own changes have been kept")).to_be_visible()
    summary = f"{questions + 2} actions: 0 done, 1 in progress, {questions + 1} not started"
    expect(page.get_by_text(summary)).to_be_visible()
    expect(month_rows(page, 4).filter(has_text="Agree the leadership route at the away day")).to_have_count(1)
    expect(page.locator("tr", has_text="Dr Leah Morgan")).to_have_count(1)

    page.goto(results)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download PDF")).click()
    download = download_info.value
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "report.pdf"
    download.save_as(target)
    assert target.read_bytes()[:5] == b"%PDF-"
