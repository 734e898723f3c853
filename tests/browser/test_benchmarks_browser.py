"""Benchmarks and reassessment as their users meet them: an LMC officer reads the demo area's anonymised
distributions; a clinical director sees the peer comparison and starts a reassessment prefilled from the last."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, screenshot, sign_in
from tests.browser.test_journey_browser import open_assessment

pytestmark = pytest.mark.browser

# The demo's winter round: eight submitted returns; Orchard Vale has chosen to be named to its LMC.
NAMED = "Orchard Vale PCN"
LETTERED = ("Northfields", "Abbeyfields", "Canalside", "Westbrook", "Castle Hill", "Downs and Weald", "Marshlands")


def test_an_lmc_officer_sees_the_area_by_letter_except_the_pcn_that_chose_to_be_named(page):
    sign_in(page, "lmc@example.org")
    page.get_by_role("link", name=re.compile("Benchmarks")).first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("link", name=re.compile("winter 2026")).first.click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("Figures from 8 PCNs")
    expect(main).to_contain_text(NAMED)
    text = main.inner_text()
    for name in LETTERED:
        assert name not in text
    assert len(set(re.findall(r"\bPCN [A-Z]{1,3}\b", text))) == 7
    expect(page.locator("svg[role=img]").first).to_be_visible()
    assert_accessible(page, "LMC benchmark page")
    screenshot(page, "lmc-benchmarks")


def test_a_clinical_director_compares_with_peers_and_reassesses_from_the_last_answers(page):
    sign_in(page, "cd11@example.org")  # Canalside: submitted the winter return
    page.get_by_role("link", name=re.compile("Open your return")).first.click()
    page.get_by_role("link", name="View your results").click()
    expect(page.get_by_role("heading", name="How your PCN compares")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("It is a profile, not a rank.")

    page.goto("/")
    open_assessment(page)  # no assessment in progress: a new one, prefilled from the submitted return
    expect(page.get_by_role("main")).to_contain_text("carried over from your last assessment")
    page.locator(".nhsuk-task-list__link").first.click()
    first = page.get_by_role("main").get_by_role("region").first
    expect(first).to_contain_text("Carried over from your last assessment")
    expect(first).to_contain_text("Last time you aimed for:")
    assert_accessible(page, "reassessment domain page")
    screenshot(page, "reassessment-domain")
    # Saving each section confirms its answers; then results show plan against delivery.
    for _ in range(20):
        with page.expect_navigation():
            page.get_by_role("button", name="Save and continue").click()
        if page.get_by_role("heading", level=1).inner_text() == "Check your answers":
            break
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    page.get_by_role("button", name="Confirm and see results").click()
    expect(page.get_by_role("heading", name="Plan against delivery")).to_be_visible()
    screenshot(page, "plan-against-delivery")
