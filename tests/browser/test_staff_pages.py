"""The staff side in Chromium: the demo city's planning, issuance and queue pages pass axe-core
(WCAG 2.0/2.1 A and AA) too — staff work on them all day, some with screen readers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import live_worlds
from tests.conftest import axe_violations
from tests.frozen_clock import DEMO_MORNING, frozen_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 11, 26)


def test_staff_pages_have_no_axe_violations(page: Any, live_server: Any) -> None:
    with frozen_at(DEMO_MORNING, tick=True):
        live_worlds.demo_city_signed_in(page, live_server.url, residents=200, seed=5, today=TODAY)
        for path in (
            "/staff/",
            "/staff/planning/",
            "/staff/planning/staffing/",
            "/staff/issuance/",
            "/staff/queue/",
        ):
            page.goto(f"{live_server.url}{path}")
            assert page.get_by_role("heading", level=1).count() == 1, path
            violations = axe_violations(page)
            assert violations == [], f"{path}: {violations}"


NARROW = {"width": 320, "height": 640}
"""A phone's narrowest screen, and a 1280 px window zoomed to 400 % (WCAG 1.4.10 Reflow)."""


def test_staff_pages_fit_a_320_px_screen_their_tables_scrolling_by_themselves(
    page: Any, live_server: Any
) -> None:
    """No staff page scrolls sideways as a whole at 320 px: a table wider than the screen (a
    card's 23-digit application ID, the queue statistics' columns) scrolls in its own
    focusable box named after its table, and the pages stay axe-clean."""
    with frozen_at(DEMO_MORNING, tick=True):
        live_worlds.demo_city_signed_in(page, live_server.url, residents=200, seed=5, today=TODAY)
        page.set_viewport_size(NARROW)
        paths = [
            "/staff/",
            "/staff/issuance/",
            "/staff/issuance/destruction/",
            "/staff/queue/stats/",
            "/staff/planning/",
        ]
        # A site's day (linked from /staff/) and a card (from /staff/issuance/): read from
        # those pages as they are checked, then checked after the rest.
        linked = {
            "/staff/": 'a[href^="/staff/sites/"]',
            "/staff/issuance/": 'a[href^="/staff/issuance/cards/"]',
        }
        boxes = 0
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= NARROW["width"], f"{path}: the page is {wide} px wide"
            assert axe_violations(page) == [], path
            boxes += _assert_scroll_boxes_are_named_after_their_tables(page, path)
            if path in linked:
                paths.append(str(page.locator(linked[path]).first.get_attribute("href")))
        assert len(paths) == 7, paths
        assert boxes >= 10, "the pages above show the tables whose names this checks"


BOX_NAMES = """() => [...document.querySelectorAll('.table-scroll')].map(box => {
  const caption = box.querySelector('caption');
  const ids = (box.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
  const rect = box.getBoundingClientRect();
  return {
    // shown as Playwright's is_visible() judges a block element: rendered, not hidden by
    // `visibility` and not empty — false inside a closed <details>
    shown: box.checkVisibility() && getComputedStyle(box).visibility === 'visible'
      && rect.width > 0 && rect.height > 0,
    caption: caption ? caption.textContent.trim() : null,
    named_by: ids.map(id => document.getElementById(id)).filter(Boolean)
      .map(el => ({tag: el.tagName, text: el.textContent.trim()})),
  };
})"""


def _assert_scroll_boxes_are_named_after_their_tables(page: Any, path: str) -> int:
    """Each scroll box's accessible name (as Playwright computes it by the ARIA name rules) is
    its table's caption, else the heading before it — never one name shared by every box.
    Returns how many shown boxes' names were checked."""
    boxes = page.evaluate(BOX_NAMES)
    names, named = [], 0
    for i, box in enumerate(boxes):
        assert len(box["named_by"]) == 1, f"{path}: box {i} is not named by one element"
        named_by = box["named_by"][0]
        expected = box["caption"] if box["caption"] is not None else named_by["text"]
        if box["caption"] is None:
            assert named_by["tag"] in {"H2", "H3"}, f"{path}: box {i} is named by {named_by}"
        assert named_by["text"] == expected, f"{path}: box {i} is not named by its caption"
        if box["shown"]:  # one in a closed <details> has no name until it is opened
            shown = page.locator(".table-scroll").nth(i)
            expect(shown).to_have_accessible_name(" ".join(expected.split()))
            named += 1
        names.append(expected)
    assert len(set(names)) == len(names), f"{path}: scroll boxes share a name: {names}"
    return named
