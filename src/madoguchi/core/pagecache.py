"""Whole-page caching for the public pages everyone reads alike (decision 0020).

The residents' booking pages before the form (home, procedures, month, day) and the queue
pages (congestion, display, a site's ticket page) are the same for every anonymous visitor in
a language, yet rendering one costs 5–40 ms of templates and queries — against ~0.5 ms for a
static file. `cached_page(seconds)` keeps each such page's HTML per process for a few seconds:

- The key is the view, the request's municipality (several on one deployment), its path, the
  query string and the language. What makes a page personal
  is never served from the cache: a session or messages cookie (or one the view names), any
  method but GET, an answer other than 200 or one that sets a cookie.
- The CSRF token of the page's forms (the language switch) is rendered as a marker and each
  answer gets its own token (`get_token`, which also sets the cookie), as an uncached page would.
- The notice number a notice's QR code carries through the booking pages (`?notice=…`) is
  rendered as a marker too and put back per answer, so the QR's path shares one cached page;
  a value other than plain letters, digits and hyphens (≤ 40) is rendered uncached.
- The age is bounded by `seconds` (`MADOGUCHI_PAGE_CACHE_SECONDS` for the booking pages: the
  availability a page shows is at most that old; the confirmation reads the slot live). 0
  switches it off. Each process keeps its own copies; nothing is shared between processes.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token

CSRF_MARK = "pagecacheCsrfMarkQ7v"
NOTICE_MARK = "PAGECACHENOTICE7Q"
CARRIED = "notice"
PLAIN_VALUE = re.compile(r"[A-Za-z0-9-]{1,40}")
MAX_PAGES = 5_000
"""Distinct pages kept per process before the cache starts afresh (query strings are free)."""

V = TypeVar("V", bound=Callable[..., HttpResponse])


@dataclass(frozen=True)
class _Page:
    at: float
    status: int
    headers: tuple[tuple[str, str], ...]
    body: str


_pages: dict[tuple[str, ...], _Page] = {}
_lock = threading.Lock()
_rendering = threading.local()


_kept: dict[str, tuple[float, Any]] = {}

T = TypeVar("T")


def kept(key: str, seconds: float, load: Callable[[], T]) -> T:
    """`load()`, kept in this process for `seconds` under `key` — as it is, not pickled (for
    model instances read on every request; callers must not modify what they get)."""
    now = time.time()
    hit = _kept.get(key)
    if seconds > 0 and hit is not None and now - hit[0] < seconds:
        return hit[1]  # type: ignore[no-any-return]
    value = load()
    if seconds > 0:
        with _lock:
            if len(_kept) >= MAX_PAGES:
                _kept.clear()
            _kept[key] = (now, value)
    return value


def forget_pages() -> None:
    """Drop every cached page and kept value of this process (tests; a deliberate refresh)."""
    with _lock:
        _pages.clear()
        _kept.clear()


def context(request: HttpRequest) -> dict[str, Any]:
    """Context processor: while a page is rendered for the cache, its CSRF token is a marker
    (registered after Django's own csrf processor, so it wins)."""
    if getattr(_rendering, "request", None) is request:
        return {"csrf_token": CSRF_MARK}
    return {}


def _personal(request: HttpRequest, cookies: tuple[str, ...]) -> bool:
    names = (settings.SESSION_COOKIE_NAME, "messages", *cookies)
    return any(name in request.COOKIES for name in names)


def _carried(request: HttpRequest) -> str | bool | None:
    """The carried notice number; None when absent; False when it cannot share a page."""
    values = request.GET.getlist(CARRIED)
    if not values:
        return None
    if len(values) == 1 and PLAIN_VALUE.fullmatch(values[0]):
        return values[0]
    return False


def _with_marked_notice(request: HttpRequest) -> tuple[QueryDict, str]:
    """The request as the view will see it: the carried value replaced by the marker. Returns
    what to put back."""
    original = request.GET, request.META.get("QUERY_STRING", "")
    query = request.GET.copy()
    query[CARRIED] = NOTICE_MARK
    request.GET = QueryDict(query.urlencode())
    request.META["QUERY_STRING"] = query.urlencode()
    return original


def _answer(page: _Page, request: HttpRequest, notice: str | None) -> HttpResponse:
    body = page.body.replace(CSRF_MARK, get_token(request))
    if notice is not None:
        body = body.replace(NOTICE_MARK, notice)
    response = HttpResponse(body, status=page.status)
    for name, value in page.headers:
        response[name] = value
    return response


def cached_page(
    seconds: Callable[[], float], *, personal_cookies: tuple[str, ...] = ()
) -> Callable[[V], V]:
    """Serve the view's page from this process's cache for `seconds()` seconds (see above)."""

    def decorate(view: V) -> V:
        name = f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            ttl = seconds()
            notice = _carried(request)
            if (
                ttl <= 0
                or request.method != "GET"
                or notice is False
                or _personal(request, personal_cookies)
            ):
                return view(request, *args, **kwargs)
            carried = notice if isinstance(notice, str) else None
            original = _with_marked_notice(request) if carried is not None else None
            key = (
                name,
                # the municipality a host or /m/<code>/ chose (offices.tenancy): one host's
                # path is another's too
                str(getattr(getattr(request, "municipality", None), "pk", "")),
                request.path,
                request.META.get("QUERY_STRING", ""),
                getattr(request, "LANGUAGE_CODE", ""),
            )
            now = time.time()  # as Django's cache: the tests' travelling clock moves it
            page = _pages.get(key)
            if page is None or now - page.at >= ttl:
                _rendering.request = request
                try:
                    response = view(request, *args, **kwargs)
                finally:
                    _rendering.request = None
                cacheable = (
                    response.status_code == 200
                    and not response.streaming
                    and not response.cookies
                    and response.get("Content-Type", "").startswith("text/html")
                )
                if not cacheable:  # rendered again as itself (a 404, a redirect: rare)
                    if original is not None:
                        request.GET = original[0]  # type: ignore[assignment]
                        request.META["QUERY_STRING"] = original[1]
                    return view(request, *args, **kwargs)
                page = _Page(
                    at=now,
                    status=response.status_code,
                    headers=tuple(response.items()),
                    body=response.content.decode(response.charset),
                )
                with _lock:
                    if len(_pages) >= MAX_PAGES:
                        _pages.clear()
                    _pages[key] = page
            return _answer(page, request, carried)

        return wrapper  # type: ignore[return-value]

    return decorate


def booking_page_seconds() -> float:
    """How old the booking pages' availability may be (MADOGUCHI_PAGE_CACHE_SECONDS)."""
    return float(settings.MADOGUCHI_PAGE_CACHE_SECONDS)


def reference_page_seconds() -> float:
    """Pages that show only sites, procedures and hours (no free seats) are kept as long as
    the booking path keeps that reference data (MADOGUCHI_REFERENCE_CACHE_SECONDS), never less
    than the booking pages; 0 when page caching is off."""
    if settings.MADOGUCHI_PAGE_CACHE_SECONDS <= 0:
        return 0.0
    return float(
        max(settings.MADOGUCHI_PAGE_CACHE_SECONDS, settings.MADOGUCHI_REFERENCE_CACHE_SECONDS)
    )
