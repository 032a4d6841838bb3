"""Fixed-window rate limits kept in the database (shared by every worker; SQLite too).

One counter row per key and window, incremented with a single atomic upsert
(`INSERT … ON CONFLICT DO UPDATE … RETURNING`), so concurrent hits never undercount and a hit
costs one statement. Expired windows are swept now and then.

Limits come from `settings.MADOGUCHI_RATE_LIMITS`: {scope: (requests, window_seconds)}; a scope
missing from it (or the whole setting set to {}) is not limited. Keys (IP addresses, notice
numbers, reservation codes) are hashed before they reach the cache. Callers pass identifiers in
their one normalised form (`issuance.numbers.normalize_notice_number`,
`reservations.normalize.normalize_reservation_code`), so every spelling of one number counts
against one counter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext

from madoguchi.core import clock
from madoguchi.core.errors import DomainError
from madoguchi.core.models import RateCounter

SWEEP_ONE_IN = 500
"""About one hit in this many also deletes counters of windows that have ended."""


def rate_limits() -> dict[str, tuple[int, int]]:
    """{scope: (requests, window_seconds)} from settings (`MADOGUCHI_RATE_LIMITS`, where the
    defaults live): `ip` any public API request and `ip_write` any write, per client address;
    `notice` attempts per notice number; `code` look-ups and changes per reservation code."""
    configured: dict[str, tuple[int, int]] = settings.MADOGUCHI_RATE_LIMITS
    return dict(configured)


def wait_text(seconds: int) -> str:
    """How long to wait, in words of the active language: seconds under a minute, else whole
    minutes rounded up (`Retry-After` carries the exact seconds)."""
    if seconds < 60:
        count = max(seconds, 1)
        return ngettext("%(count)d秒", "%(count)d秒", count) % {"count": count}
    minutes = -(-seconds // 60)
    return ngettext("%(count)d分", "%(count)d分", minutes) % {"count": minutes}


class RateLimited(DomainError):
    """429: over a limit. The message says how long to wait; `retry_after_seconds` goes into
    the `Retry-After` header."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "rate_limited",
            gettext(
                "短時間にたくさんのお申し込みがありました。"
                "%(wait)sほど待ってから、もう一度お試しください。"
            )
            % {"wait": wait_text(retry_after_seconds)},
            status=429,
        )
        self.retry_after_seconds = retry_after_seconds


def client_ip(request: HttpRequest) -> str:
    """The client's address as the server sees it (a proxy in front sets REMOTE_ADDR right)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def hit(scope: str, key: str) -> None:
    """Count one request for `key` in `scope`; raise RateLimited (429) once over the limit."""
    limit = rate_limits().get(scope)
    if limit is None or not key:
        return
    requests, window = limit
    count, retry_after = count_in_window(scope, key, window)
    if count > requests:
        raise RateLimited(retry_after_seconds=retry_after)


def _counter_key(scope: str, key: str, window: int) -> tuple[str, int, int]:
    """(counter row key, window number, now as a Unix second) for `key` in the current window."""
    stamp = int(clock.now().timestamp())
    bucket = stamp // window
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    return f"{scope}:{bucket}:{digest}", bucket, stamp


def count_in_window(scope: str, key: str, window: int) -> tuple[int, int]:
    """Count one hit for `key` in `scope`'s current `window`-second window (one atomic upsert).
    Returns (hits in this window including this one, seconds until the window ends)."""
    counter_key, bucket, stamp = _counter_key(scope, key, window)
    window_ends_at = dt.datetime.fromtimestamp((bucket + 1) * window, tz=dt.UTC)
    q = connection.ops.quote_name
    table, key_, ends, count_ = (
        q(RateCounter._meta.db_table),
        q("key"),
        q("window_ends_at"),
        q("count"),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key_}, {ends}, {count_}) VALUES (%s, %s, 1) "  # noqa: S608 — names from the model, values bound
            f"ON CONFLICT ({key_}) DO UPDATE SET {count_} = {table}.{count_} + 1 "
            f"RETURNING {count_}",
            [counter_key, window_ends_at],
        )
        count = int(cursor.fetchone()[0])
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        RateCounter.objects.filter(window_ends_at__lt=clock.now()).delete()
    return count, (bucket + 1) * window - stamp


def take_back(scope: str, key: str, window: int) -> None:
    """Undo one hit of `count_in_window` in the current window (an attempt that turned out not
    to count, e.g. a successful login)."""
    counter_key, _, _ = _counter_key(scope, key, window)
    RateCounter.objects.filter(key=counter_key, count__gt=0).update(count=F("count") - 1)
