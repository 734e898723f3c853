"""Wide tables as their readers meet them: a table that fits the page has no scroll bar of its own, and one wider
than a phone scrolls inside its box while the page itself never scrolls sideways."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser

WINTER = re.compile("winter 2026")
# Each scroll box on the page: [class of its table, how wide its content is, how wide the box is].
SCROLL_BOXES = """() => [...document.querySelectorAll('.app-table-scroll')].map(
    box => [box.querySelector('table').className, box.scrollWidth, box.clientWidth])"""


def page_scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_the_benchmarks_spread_by_domain_fits_a_desktop_page_without_a_scroll_bar(new_page):
    page = new_page()  # 1280 pixels wide
    sign_in(page, "lmc@example.org")
    page.goto("/benchmarks/")
    page.get_by_role("link", name=WINTER).first.click()
    expect(page.locator("table.app-benchmark-domains")).to_be_visible()
    boxes = {table: (content, box) for table, content, box in page.evaluate(SCROLL_BOXES)}
    content, box = boxes["nhsuk-table app-benchmark-domains"]
    assert content <= box, f"the spread by domain needs {content}px in a {box}px box"
    content, box = boxes["nhsuk-table app-benchmark-members"]
    assert content > box  # sixteen columns of PCNs' figures do scroll, inside their box
    assert not page_scrolls_sideways(page)


def test_on_a_phone_the_round_dashboard_and_heatmap_scroll_inside_their_boxes_not_the_page(new_page):
    page = new_page(viewport={"width": 390, "height": 844})
    sign_in(page, "icb@example.org")
    page.goto("/rounds/")
    page.get_by_role("link", name=WINTER).first.click()
    expect(page.locator("table.app-returns")).to_be_visible()
    (_, content, box), *_ = page.evaluate(SCROLL_BOXES)
    assert content > box  # the table is wider than the phone and scrolls in its box...
    assert not page_scrolls_sideways(page)  # ...and its visually hidden text does not widen the page
    screenshot(page, "round-dashboard-390")

    page.get_by_role("link", name="Heatmap").click()
    expect(page.locator("table.app-heatmap")).to_be_visible()
    assert not page_scrolls_sideways(page)
