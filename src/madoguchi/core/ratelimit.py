"""Fixed-window rate limits kept in Django's cache (the database cache: shared by every worker,
and it works on SQLite too).

Limits come from `settings.MADOGUCHI_RATE_LIMITS`: {scope: (requests, window_seconds)}; a scope
missing from it (or the whole setting set to {}) is not limited. Keys (IP addresses, notice
numbers, reservation codes) are hashed before they reach the cache.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from madoguchi.core import clock
from madoguchi.core.errors import DomainError

DEFAULT_RATE_LIMITS: dict[str, tuple[int, int]] = {
    "ip": (120, 60),  # any public API request, per client address
    "ip_write": (20, 60),  # bookings, cancellations, reschedules per client address
    "notice": (10, 600),  # attempts per notice number (guessing birth dates)
    "code": (20, 600),  # look-ups and changes per reservation code
}


def rate_limits() -> dict[str, tuple[int, int]]:
    configured: dict[str, tuple[int, int]] | None = getattr(settings, "MADOGUCHI_RATE_LIMITS", None)
    return dict(DEFAULT_RATE_LIMITS) if configured is None else dict(configured)


class RateLimited(DomainError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "rate_limited",
            "短時間にたくさんのお申し込みがありました。しばらく待ってからもう一度お試しください。",
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
    now = int(clock.now().timestamp())
    bucket = now // window
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{bucket}:{digest}"
    # incr first: the common case (a known client) costs one read and one write; a new key is
    # added. The database cache's incr is read-then-write, so concurrent hits may undercount a
    # little — acceptable for a rate limit, unlike for seats.
    try:
        count = cache.incr(cache_key)
    except ValueError:
        count = 1 if cache.add(cache_key, 1, timeout=window + 1) else cache.incr(cache_key)
    if count > requests:
        raise RateLimited(retry_after_seconds=(bucket + 1) * window - now)
