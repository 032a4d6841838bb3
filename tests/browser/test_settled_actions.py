"""The suite's browser actions return once the page they led to is loaded
(`tests.conftest._settle_after_actions`).

A form posted to a server that answers slowly — the head of its page at once, the rest later,
as a loaded machine does — is read right after the click: the heading at the end of the page is
there. The control clicks with Playwright's own action, which returns at the navigation's
commit, and finds the page not yet built: the failure the settling guards against is real. In
the control the server holds the rest of the page until the test has read it, so the control
does not depend on how fast the machine is.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytestmark = pytest.mark.browser

FORM = (
    "<!doctype html><html lang=ja><head><title>送信</title></head><body><main>"
    "<form method=post action=/done/><button type=submit>送信する</button></form>"
    "</main></body></html>"
)
SLOW_TAIL_SECONDS = 0.6
"""How long the server holds the rest of the page, unless the test releases it earlier."""


class _SlowServer(ThreadingHTTPServer):
    tail_seconds = SLOW_TAIL_SECONDS
    tail_released: threading.Event


class _SlowlyAnswering(BaseHTTPRequestHandler):
    server: _SlowServer

    def do_GET(self) -> None:
        self._answer(FORM.encode())

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        head = "<!doctype html><html lang=ja><head><title>結果</title></head><body><main>"
        self.wfile.write(head.encode() + b" " * 4096)
        self.wfile.flush()
        self.server.tail_released.wait(timeout=self.server.tail_seconds)
        self.wfile.write("<h1>受け付けました</h1></main></body></html>".encode())
        self.close_connection = True

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[_SlowServer]:
    server = _SlowServer(("127.0.0.1", 0), _SlowlyAnswering)
    server.tail_released = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.tail_released.set()
        server.shutdown()
        server.server_close()


def address(server: _SlowServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/"


def test_a_read_right_after_a_submitting_click_sees_the_whole_next_page(
    page: Any, slow_server: _SlowServer
) -> None:
    page.goto(address(slow_server))
    page.get_by_role("button", name="送信する").click()
    assert page.get_by_role("heading", name="受け付けました").count() == 1


def test_control_playwrights_own_click_returns_before_the_page_is_built(
    page: Any, slow_server: _SlowServer
) -> None:
    from playwright.sync_api import Locator

    unsettled_click = getattr(Locator.click, "__wrapped__")  # noqa: B009 - Playwright's own action, not the suite's
    slow_server.tail_seconds = 60  # held until the read below, however long the click takes
    page.goto(address(slow_server))
    unsettled_click(page.get_by_role("button", name="送信する"))
    assert page.get_by_role("heading", name="受け付けました").count() == 0
    slow_server.tail_released.set()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="受け付けました").count() == 1
