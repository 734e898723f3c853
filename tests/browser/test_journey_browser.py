"""The PCN's journey in a real browser: sign in, answer all eight domains, check, confirm, results.

Also: axe-core finds no WCAG 2.2 AA violations on the main pages, and the "target below current" error works as
the NHS.UK error summary should. Screenshots for people to look at go to test-artifacts/.
"""

import re
from dataclasses import dataclass
from functools import cache

import pytest
import yaml
from playwright.sync_api import Page, expect

from tests.browser.conftest import ROOT, assert_accessible, open_context, screenshot, sign_in

pytestmark = pytest.mark.browser

NOW = "Where is your PCN now?"
TARGET = "Where do you want to be in six months?"
NOTE_LABEL = "Note about this question (optional)"
TARGET_BELOW_CURRENT = "Your six-month target cannot be below where your PCN is now"


# --- What the questionnaire file says the pages should show ---------------------------------------------------


@dataclass(frozen=True)
class QuestionSpec:
    text: str
    weight: float


@dataclass(frozen=True)
class DomainSpec:
    title: str
    weight: float
    questions: tuple[QuestionSpec, ...]


def _shown(text: str) -> str:
    """A question's text as the page shows it: one line, a glossary term [[X]] as plain X."""
    return " ".join(re.sub(r"\[\[([^\[\]]+)\]\]", r"\1", text).split())


@cache
def core_domains() -> tuple[DomainSpec, ...]:
    raw = yaml.safe_load((ROOT / "questionnaires" / "neighbourhood-readiness.yaml").read_text())
    return tuple(
        DomainSpec(
            title=d["title"],
            weight=d.get("weight", 1),
            questions=tuple(QuestionSpec(_shown(q["text"]), q.get("weight", 1)) for q in d["questions"]),
        )
        for d in raw["domains"]
    )


def readiness(levels: dict[tuple[int, int], int]) -> tuple[list[float], float]:
    """Domain and overall readiness as docs/scoring.md defines it (weighted levels out of 4, weighted domains)."""
    domains = []
    for d, domain in enumerate(core_domains()):
        total = sum(4 * q.weight for q in domain.questions)
        domains.append(100 * sum(levels[d, q] * question.weight for q, question in enumerate(domain.questions)) / total)
    weights = [domain.weight for domain in core_domains()]
    return domains, sum(s * w for s, w in zip(domains, weights, strict=True)) / sum(weights)


def percent(value: float) -> str:
    return f"{value:.0f}%"


# --- Page helpers -----------------------------------------------------------------------------------------------


def open_assessment(page: Page) -> None:
    """From the home page, start an assessment or continue the one in progress; lands on the task list."""
    start = page.get_by_role("button", name="Start a new assessment")
    carry_on = page.get_by_role("link", name="Continue your assessment")
    expect(start.or_(carry_on)).to_be_visible()
    (start if start.is_visible() else carry_on).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your assessment")


def questions_on(page: Page):
    """Each question is a <section> named by its heading, so a region."""
    return page.get_by_role("main").get_by_role("region")


def note_of(question):
    """A question's note box, unfolding "Add a note" first as a person would (it is folded away until wanted)."""
    if not question.locator("details.app-note").evaluate("details => details.open"):
        question.get_by_text("Add a note").click()
    return question.get_by_label(NOTE_LABEL)


def choose(question, legend: str, option: str) -> None:
    """Click the label of a radio, as a person would (check your answers shows that it took)."""
    question.get_by_role("group", name=legend).get_by_text(option, exact=True).click()


def answer_quickly(page: Page, now: str = "1", target: str = "3") -> None:
    """Tick every radio on a domain page in one go (for setting up, not for testing the form itself)."""
    page.evaluate(
        """([now, target]) => {
            for (const radio of document.querySelectorAll("input[type=radio]")) {
                if ((radio.name.endsWith("-now") && radio.value === now)
                    || (radio.name.endsWith("-target") && radio.value === target)) radio.checked = true;
            }
        }""",
        [now, target],
    )


def task(page: Page, title: str):
    return page.get_by_role("listitem").filter(has=page.get_by_role("link", name=title, exact=True))


# --- 1. The whole journey ---------------------------------------------------------------------------------------


def test_clinical_director_completes_an_assessment_and_sees_results(page):
    domains = core_domains()
    note = "Discussed at the March board; the partners want the clinical director to lead."
    not_sure = (1, 0)  # the first question of the second domain: "Not sure" where the PCN is now
    with_note = (0, 0)

    sign_in(page, "cd@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your PCN's neighbourhood readiness")
    expect(page.get_by_text("Dr Asha Patel, Riverside PCN")).to_be_visible()
    page.get_by_role("button", name="Start a new assessment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your assessment")
    expect(page.get_by_text("Riverside PCN", exact=True)).to_be_visible()
    expect(page.get_by_text(f"You have completed 0 of {len(domains)} sections.")).to_be_visible()
    for domain in domains:
        expect(task(page, domain.title)).to_contain_text("Not started")
    page.get_by_role("link", name=domains[0].title, exact=True).click()

    halfway = len(domains) // 2
    for d, domain in enumerate(domains):
        expect(page.get_by_role("heading", level=1)).to_have_text(domain.title)
        expect(page.get_by_text(f"Section {d + 1} of {len(domains)}", exact=True)).to_be_visible()
        questions = questions_on(page)
        expect(questions.get_by_role("heading", level=2)).to_have_text(
            [f"{q + 1}. {spec.text}" for q, spec in enumerate(domain.questions)]
        )
        for q in range(len(domain.questions)):
            question = questions.nth(q)
            choose(question, NOW, "Not sure" if (d, q) == not_sure else "Early steps")
            choose(question, TARGET, "In place")
            if (d, q) == with_note:
                note_of(question).fill(note)
        if d == 0:
            screenshot(page, "domain-page")
        page.get_by_role("button", name="Save and continue").click()

        if d + 1 == halfway:
            # Leave half way through, see progress on the task list, and carry on from there.
            expect(page.get_by_role("heading", level=1)).to_have_text(domains[halfway].title)
            page.get_by_role("link", name="Back to your assessment").click()
            expect(page.get_by_text(f"You have completed {halfway} of {len(domains)} sections.")).to_be_visible()
            for done in domains[:halfway]:
                expect(task(page, done.title)).to_contain_text("Completed")
            for later in domains[halfway:]:
                expect(task(page, later.title)).to_contain_text("Not started")
            expect(page.get_by_role("link", name="Check your answers")).to_have_count(0)
            screenshot(page, "task-list")
            page.get_by_role("link", name=domains[halfway].title, exact=True).click()

    # Check your answers: every question is there, as answered, with a way to change it.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    rows = page.locator(".nhsuk-summary-list__row")
    expect(rows).to_have_count(sum(len(d.questions) for d in domains))
    expect(page.get_by_role("link", name=re.compile(r"^Change"))).to_have_count(rows.count())
    expect(page.get_by_text("Not answered")).to_have_count(0)
    expect(rows.filter(has_text="Now: Early steps –")).to_have_count(rows.count() - 1)
    expect(rows.filter(has_text="In six months: In place –")).to_have_count(rows.count())
    unsure_row = rows.filter(has_text=domains[not_sure[0]].questions[not_sure[1]].text)
    expect(unsure_row).to_contain_text("Now: Not sure")
    expect(unsure_row).to_contain_text("In six months: In place")
    noted_row = rows.filter(has_text=domains[with_note[0]].questions[with_note[1]].text)
    expect(noted_row).to_contain_text("Now: Early steps")
    expect(noted_row).to_contain_text(f"Note: {note}")
    page.get_by_role("button", name="Confirm and see results").click()

    # Results: "Not sure" counts as level 0 now, so the overall figure sits just below 25%.
    levels_now = {(d, q): 1 for d, domain in enumerate(domains) for q in range(len(domain.questions))}
    levels_now[not_sure] = 0
    domains_now, overall_now = readiness(levels_now)
    assert overall_now < 25  # the test means something only if "Not sure" moved the figure

    expect(page.get_by_role("heading", level=1)).to_have_text("Your readiness results")
    now_card = page.locator(".nhsuk-card").filter(has=page.get_by_role("heading", name="Overall readiness now"))
    expect(now_card).to_contain_text(percent(overall_now))
    expect(now_card).to_contain_text("Band: Getting started")
    target_card = page.locator(".nhsuk-card").filter(
        has=page.get_by_role("heading", name="Overall readiness at your six-month target")
    )
    expect(target_card).to_contain_text("75%")
    expect(target_card).to_contain_text("Band: Established")
    expect(page.get_by_text('1 answer was "Not sure"')).to_be_visible()
    table = page.get_by_role("table", name="Readiness by domain, now and at the six-month target")
    for domain, now in zip(domains, domains_now, strict=True):
        row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=domain.title, exact=True))
        expect(row).to_contain_text(percent(now))
        expect(row).to_contain_text("75%")
    screenshot(page, "results")


# --- 3. The error summary ---------------------------------------------------------------------------------------


def test_target_below_current_shows_an_error_that_leads_to_the_radio(page):
    domain = core_domains()[0]
    note = "We have talked about this at the board but not decided."
    sign_in(page, "cd2@example.org")
    open_assessment(page)
    page.get_by_role("link", name=domain.title, exact=True).click()

    questions = questions_on(page)
    for q in range(1, len(domain.questions)):
        choose(questions.nth(q), NOW, "Early steps")
        choose(questions.nth(q), TARGET, "In place")
    first = questions.first
    choose(first, NOW, "In place")
    choose(first, TARGET, "Early steps")
    note_of(first).fill(note)
    page.get_by_role("button", name="Save and continue").click()

    message = f"{TARGET_BELOW_CURRENT}: {domain.questions[0].text}"
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(1)
    link = summary.get_by_role("link", name=message)
    expect(link).to_be_visible()
    expect(summary).to_be_focused()  # the summary takes focus when the page loads
    expect(first.get_by_role("group", name=TARGET)).to_contain_text(message)  # and the message is at the question
    screenshot(page, "domain-error")

    link.click()
    target_group = first.get_by_role("group", name=TARGET)
    expect(target_group.get_by_role("radio", name="Not in place", exact=True)).to_be_focused()
    # What the user chose and typed is still there.
    expect(first.get_by_label(NOTE_LABEL)).to_have_value(note)
    # Each "now" choice is named by its level and descriptor together; the target by the level's name.
    expect(first.get_by_role("group", name=NOW).get_by_role("radio", name=re.compile(r"^In place – "))).to_be_checked()
    expect(first.get_by_role("group", name=TARGET).get_by_role("radio", name="Early steps", exact=True)).to_be_checked()


# --- 2. Accessibility -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def completed_assessment(browser, live_server):
    """Northfields PCN's assessment, answered and confirmed: the signed-in state and the pages' addresses."""
    problems: list[str] = []
    context = open_context(browser, live_server, problems)
    page = context.new_page()
    sign_in(page, "cd2@example.org")
    home = page.url
    open_assessment(page)
    task_list = page.url
    page.get_by_role("link", name=core_domains()[0].title, exact=True).click()
    domain = page.url
    for spec in core_domains():
        expect(page.get_by_role("heading", level=1)).to_have_text(spec.title)
        answer_quickly(page)
        page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    check = page.url
    page.get_by_role("button", name="Confirm and see results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your readiness results")
    urls = {"home": home, "task list": task_list, "domain": domain, "check": check, "results": page.url,
            "report": page.url.removesuffix("/results") + "/report",
            "plan": page.url.removesuffix("/results") + "/plan",
            "account": home.rstrip("/") + "/account"}  # fmt: skip
    state = context.storage_state()
    context.close()
    assert not problems, "\n".join(problems)
    return state, urls


def _error_state(page: Page) -> None:
    first = questions_on(page).first
    first.get_by_role("group", name=NOW).get_by_text("Embedded", exact=True).click()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


def _wrong_password(page: Page) -> None:
    page.get_by_label("Email address").fill("cd2@example.org")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


def _short_new_password(page: Page) -> None:
    page.get_by_label("Current password").fill("not-it")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm new password").fill("short")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()


PAGES = {
    "sign-in page": (None, None),
    "sign-in page with an error": (None, _wrong_password),
    "home page": ("home", None),
    "task list": ("task list", None),
    "domain page": ("domain", None),
    "domain page with an error": ("domain", _error_state),
    "check your answers": ("check", None),
    "results page": ("results", None),
    "report, the print view": ("report", None),
    "action plan": ("plan", None),
    "account page": ("account", None),
    "account page with an error": ("account", _short_new_password),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_wcag_22_aa_violations(new_page, completed_assessment, name):
    state, urls = completed_assessment
    where, then = PAGES[name]
    if where is None:
        page = new_page()
        page.goto("/sign-in")
    else:
        page = new_page(storage_state=state)
        page.goto(urls[where])
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if then:
        then(page)
    assert_accessible(page, name)


PHONE = {"width": 390, "height": 844}


def open_on_a_phone(new_page, completed_assessment, where: str):
    """The page, signed in, on a 390-pixel phone; it must fit the screen without sideways scrolling."""
    state, urls = completed_assessment
    phone = new_page(storage_state=state, viewport=PHONE)
    phone.goto(urls[where])
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    return phone


def test_the_action_plan_fits_a_phone_with_each_action_as_labelled_lines(new_page, completed_assessment):
    phone = open_on_a_phone(new_page, completed_assessment, "plan")
    action = phone.locator(".app-plan-table tbody tr").first
    expect(action.locator(".nhsuk-table__heading", has_text="Owner")).to_be_visible()
    edit = action.get_by_role("link", name=re.compile("^Edit")).bounding_box()
    assert edit["x"] + edit["width"] <= PHONE["width"]  # within reach, not off to the side
    assert_accessible(phone, "action plan on a phone")
    screenshot(phone, "plan-390")

    state, urls = completed_assessment
    desktop = new_page(storage_state=state)
    desktop.goto(urls["plan"])
    expect(desktop.locator(".app-plan-table thead").first).to_be_visible()  # columns with headings, no labels
    expect(desktop.locator(".app-plan-table tbody tr").first.locator(".nhsuk-table__heading").first).to_be_hidden()


def test_the_results_page_fits_a_phone_its_tables_scrolling_in_their_own_boxes(new_page, completed_assessment):
    phone = open_on_a_phone(new_page, completed_assessment, "results")
    # Each table sits in a region named by its caption, which a keyboard user can focus to scroll.
    box = phone.get_by_role("region", name="Readiness by domain, now and at the six-month target")
    expect(box.locator("table")).to_be_visible()
    assert box.get_attribute("tabindex") == "0"
    screenshot(phone, "results-390")


def test_the_report_print_view_fits_a_phone_without_sideways_scrolling(new_page, completed_assessment):
    page = open_on_a_phone(new_page, completed_assessment, "report")
    # The table of figures breaks lines between words, never inside one ("No" above "w").
    lines = page.evaluate(
        """() => [...document.querySelectorAll('section.summary table th, section.summary table td')].map(cell => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            const words = cell.textContent.trim().split(/\\s+/).length;
            return [cell.textContent.trim(), range.getClientRects().length, words];
        })"""
    )
    split = [text for text, count, words in lines if count > words]
    assert not split, f"words broken across lines: {split}"
    screenshot(page, "report-print-view-390")
