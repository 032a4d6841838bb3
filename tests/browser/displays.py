"""The waiting-room display (and any page with a timer) in Chromium, on Playwright's clock.

The display asks for `board.json` every `DISPLAY_POLL_SECONDS` by its own timer (display.js).
A test that waited for that timer in wall time spent most of its run idle — up to 3 s for each
change it checked, and up to 30 s after an outage while the back-off ran. The page's clock is
installed before it opens (`page.clock.install()`): time in the page flows as usual, and
`next_poll` jumps it forward so the page's own pending timer fires at once. The page still
updates *by itself* — nothing reloads it or fetches for it; `SameDocument` proves it was never
reloaded — and the server's answer is still waited for as an event, never for a fixed time.
"""

from __future__ import annotations

from typing import Any

from madoguchi.queue_board.views import DISPLAY_POLL_SECONDS

POLL_MS = DISPLAY_POLL_SECONDS * 1000
"""The display's polling period, in the page's milliseconds."""

CATCHES_UP_MS = 10 * POLL_MS
"""How long a test waits for the display to show a change after bringing its poll forward: a
safety net for a loaded machine (the poll was due at once); how fast the server answers is the
benchmarks' business, not a test's."""

LONGEST_RETRY_MS = 30_000
"""display.js doubles its wait after each failed poll, to at most 30 s."""


def open_on_clock(page: Any, url: str) -> None:
    """Open `url` in `page` with Playwright's clock installed first (from the page's start)."""
    page.clock.install()
    page.goto(url)


def next_poll(page: Any, *, by_ms: int = POLL_MS) -> None:
    """Bring the page's timers `by_ms` forward: the display's pending poll (or retry) fires now.

    Fast-forwarding fires each due timer once, as a tablet woken from sleep would. When the
    page's previous poll is still on its way, its timer is set when the answer comes and fires
    within one period of the page's (flowing) time; the caller's wait covers that."""
    page.clock.fast_forward(by_ms)


class SameDocument:
    """Counts the documents loaded in `page` from now on: `reloaded()` is False while the page
    has shown every change by itself."""

    def __init__(self, page: Any) -> None:
        self.loads = 0
        page.on("load", self._loaded)

    def _loaded(self, _page: Any) -> None:
        self.loads += 1

    def reloaded(self) -> bool:
        return self.loads > 0


_RECORD_HIGHLIGHTS = """() => {
    window.highlighted = [];
    const calling = document.querySelector("[data-calling]");
    new MutationObserver(() => {
        for (const row of calling.querySelectorAll("tr.fresh")) {
            const number = row.querySelector("td.number");
            window.highlighted.push({
                number: number.textContent.trim(),
                counter: row.querySelector("td.counter").textContent,
                numberSize: parseFloat(getComputedStyle(number).fontSize),
            });
        }
    }).observe(calling, {childList: true});
}"""


def record_highlights(page: Any) -> None:
    """From now on, every newly called row the display in `page` draws highlighted is recorded
    as it is drawn (a MutationObserver on the called list: display.js replaces the rows, marking
    the new ones `fresh`), for `highlighted` to read.

    The display's own timer runs too (its page time flows). When a poll of its own comes between
    a call and `next_poll`, it draws the highlight, and the poll brought forward redraws the row
    plain at once: a test looking for the highlight only after that waits for a row already
    drawn plain (seen once at load 9: a 30 s timeout). Recorded, the highlight counts whichever
    poll drew it."""
    page.evaluate(_RECORD_HIGHLIGHTS)


def forget_highlights(page: Any) -> None:
    """The rows recorded so far forgotten: `highlighted` answers only for what comes next."""
    page.evaluate("() => { window.highlighted = []; }")


def highlighted(page: Any, number: str) -> dict[str, Any]:
    """The row with `number` as drawn highlighted since `record_highlights` (or the last
    `forget_highlights`) — its number, counter and the number's font size in px — waited for up
    to `CATCHES_UP_MS`."""
    found = page.wait_for_function(
        "(number) => window.highlighted.find((row) => row.number === number) || null",
        arg=number,
        polling=50,
        timeout=CATCHES_UP_MS,
    )
    row: dict[str, Any] = found.json_value()
    return row


def highlights(page: Any) -> list[dict[str, Any]]:
    """Every row recorded as drawn highlighted (as `highlighted` gives them), in order."""
    rows: list[dict[str, Any]] = page.evaluate("() => window.highlighted")
    return rows
