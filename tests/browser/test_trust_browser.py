"""Trust in a real browser: unsaved answers kept on the device, sign-out that really ends things, CSP-clean pages."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, screenshot, sign_in
from tests.browser.test_journey_browser import NOTE_LABEL, note_of, open_assessment, questions_on

pytestmark = pytest.mark.browser

DRAFT_HEADING = "You have answers on this device that were not saved"


def draft_ready(page) -> None:
    """Wait for the page's draft keeping to start (a module script, run after the page is parsed)."""
    page.wait_for_selector("form[data-draft-ready]", state="attached")


def test_answers_from_a_save_that_never_arrived_are_offered_back(page):
    sign_in(page, "cd4@example.org")
    open_assessment(page)
    page.get_by_role("link", name="Leadership", exact=True).click()
    domain_url = page.url
    draft_ready(page)
    first = questions_on(page).first
    first.get_by_role("group", name="Where is your PCN now?").get_by_text("Partly in place", exact=True).click()
    note_of(first).fill("Agreed at the board on Tuesday")
    # The connection drops as they press save: the post never reaches the server.
    page.route(re.compile(r".*/domains/leadership$"), lambda route: route.abort() if route.request.method == "POST"
               else route.continue_())  # fmt: skip
    page.get_by_role("button", name="Save and come back later").click()
    page.wait_for_timeout(300)
    page.unroute(re.compile(r".*/domains/leadership$"))
    page.goto(domain_url)
    callout = page.locator("#unsaved-draft")
    expect(callout.get_by_role("heading", name=DRAFT_HEADING)).to_be_visible()
    assert_accessible(page, "domain page offering unsaved answers")
    screenshot(page, "domain-unsaved-draft")
    first = questions_on(page).first
    expect(first.get_by_label(NOTE_LABEL)).to_have_value("")
    page.get_by_role("button", name="Restore my unsaved answers").click()
    expect(first.get_by_label(NOTE_LABEL)).to_have_value("Agreed at the board on Tuesday")
    now = first.get_by_role("group", name="Where is your PCN now?")
    expect(now.get_by_role("radio", name=re.compile(r"^Partly in place – "))).to_be_checked()
    page.get_by_role("button", name="Save and come back later").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your assessment")
    page.goto(domain_url)
    expect(questions_on(page).first.get_by_label(NOTE_LABEL)).to_have_value("Agreed at the board on Tuesday")
    expect(page.locator("#unsaved-draft")).to_have_count(0)  # saved: nothing to offer


def test_signing_out_clears_drafts_and_the_back_button_shows_nothing(page):
    sign_in(page, "cd4@example.org")
    open_assessment(page)
    page.get_by_role("link", name="Governance", exact=True).click()
    draft_ready(page)
    note_of(questions_on(page).first).fill("Draft on a shared computer")
    assert page.evaluate("Object.keys(localStorage).some(k => k.startsWith('readiness-draft:'))")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert not page.evaluate("Object.keys(localStorage).some(k => k.startsWith('readiness-draft:'))")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")  # no-store: fetched again, not shown
    assert "Draft on a shared computer" not in page.content()


def test_a_draft_outlives_a_lost_session_and_is_offered_after_signing_in_again(page):
    sign_in(page, "cd4@example.org")
    open_assessment(page)
    page.get_by_role("link", name="Governance", exact=True).click()
    domain_url = page.url
    draft_ready(page)
    note_of(questions_on(page).first).fill("Typed as the laptop lid closed")
    page.context.clear_cookies()  # the session is gone (as after an idle timeout or cleared cookies)
    page.goto(domain_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_label("Email address").fill("cd4@example.org")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(domain_url)
    expect(page.locator("#unsaved-draft").get_by_role("heading", name=DRAFT_HEADING)).to_be_visible()
    page.get_by_role("button", name="Restore my unsaved answers").click()
    expect(questions_on(page).first.get_by_label(NOTE_LABEL)).to_have_value("Typed as the laptop lid closed")


def test_someone_elses_drafts_go_when_another_person_signs_in_on_the_browser(page):
    sign_in(page, "cd4@example.org")
    open_assessment(page)
    page.get_by_role("link", name="Governance", exact=True).click()
    draft_ready(page)
    note_of(questions_on(page).first).fill("Not for the next person")
    page.context.clear_cookies()
    sign_in(page, "cd3@example.org")
    assert not page.evaluate("Object.keys(localStorage).some(k => k.startsWith('readiness-draft:'))")
