"""What a resident's browser keeps between the booking pages: one signed cookie, no session row.

The residents' pages remember little, and only for the browser that proved it:
- `access`: the reservations this browser may open (booking code → the birth date given with
  it, when booking or on the look-up page);
- `tokens`: the one-time tokens of confirmations already booked (a reload or a second tap on
  「予約する」 shows the booking made, not a second one);
- `booked`: for the one page right after a booking, what the booking statement wrote — so the
  reservation page it redirects to is rendered without reading the booking again
  (`just_booked`, consumed on that page, good for `JUST_BOOKED_SECONDS`, dropped by a change
  or cancellation made from this browser before it was shown).

It is kept in a cookie signed with the SECRET_KEY (`django.core.signing`, its own salt), so the
database does no work for it (decision 0027) — Django's database sessions stay for the staff
side, whose sign-in must be revocable. The browser can read its own cookie (what it typed) but
not change it; HttpOnly, Secure over HTTPS and SameSite=Lax as the session cookie.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

COOKIE = "madoguchi_resident"
SALT = "madoguchi.resident_site.kept"
KEPT_TOKENS = 10
"""How many used one-time tokens are remembered (enough for a family booking in a row)."""
KEPT_ACCESS = 20
"""How many reservations one browser keeps access to (the oldest is forgotten first)."""
JUST_BOOKED_SECONDS = 10
"""How long after a booking its page may be rendered from what the booking wrote (a browser
follows the booking's redirect at once)."""

V = TypeVar("V", bound=Callable[..., HttpResponse])


class Kept:
    """The cookie's content for one request; `changed` when it must be sent again."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.changed = False

    @property
    def access(self) -> dict[str, str]:
        value = self.data.get("access")
        return dict(value) if isinstance(value, dict) else {}

    def remember(self, code: str, birth_date: str) -> None:
        """This browser proved `code` with `birth_date` (ISO)."""
        access = {k: v for k, v in self.access.items() if k != code}
        access[code] = birth_date
        self.data["access"] = dict(list(access.items())[-KEPT_ACCESS:])
        self.changed = True

    def booked_with(self, token: str) -> str | None:
        """The booking code a confirmation with this one-time token made, if any."""
        tokens = self.data.get("tokens")
        code = tokens.get(token) if isinstance(tokens, dict) and token else None
        return code if isinstance(code, str) else None

    def used_token(self, token: str, code: str) -> None:
        tokens = self.data.get("tokens")
        recent = list(tokens.items())[-(KEPT_TOKENS - 1) :] if isinstance(tokens, dict) else []
        self.data["tokens"] = {**dict(recent), token: code}
        self.changed = True

    def keep_just_booked(self, snapshot: dict[str, Any]) -> None:
        self.data["booked"] = {**snapshot, "at": time.time()}
        self.changed = True

    def forget_just_booked(self) -> None:
        """A change of the booking from this browser: its page must read it again."""
        if "booked" in self.data:
            del self.data["booked"]
            self.changed = True

    def just_booked(self, code: str) -> dict[str, Any] | None:
        """What the booking of `code` wrote, when this browser made it less than
        `JUST_BOOKED_SECONDS` ago and has not shown it yet; forgotten once asked for."""
        snapshot = self.data.get("booked")
        if not isinstance(snapshot, dict) or snapshot.get("code") != code:
            return None
        del self.data["booked"]
        self.changed = True
        at = snapshot.get("at")
        if not isinstance(at, int | float) or not 0 <= time.time() - at < JUST_BOOKED_SECONDS:
            return None
        return snapshot


def of(request: HttpRequest) -> Kept:
    """The request's kept values (an empty set for no cookie, or one that fails its signature
    or is older than SESSION_COOKIE_AGE)."""
    found = getattr(request, "_madoguchi_kept", None)
    if isinstance(found, Kept):
        return found
    data: Any = {}
    raw = request.COOKIES.get(COOKIE)
    if raw:
        try:
            data = signing.loads(raw, salt=SALT, max_age=settings.SESSION_COOKIE_AGE)
        except signing.BadSignature:  # also an expired one
            data = {}
    kept = Kept(data if isinstance(data, dict) else {})
    request._madoguchi_kept = kept  # type: ignore[attr-defined]
    return kept


def keeps(view: V) -> V:
    """Decorate a view that changes what the browser keeps: the cookie goes out with its answer
    (but never with a 5xx)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        kept = getattr(request, "_madoguchi_kept", None)
        if isinstance(kept, Kept) and kept.changed and response.status_code < 500:
            response.set_cookie(
                COOKIE,
                signing.dumps(kept.data, salt=SALT, compress=True),
                max_age=settings.SESSION_COOKIE_AGE,
                secure=bool(settings.SESSION_COOKIE_SECURE),
                httponly=True,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
            patch_vary_headers(response, ("Cookie",))
        return response

    return wrapper  # type: ignore[return-value]
