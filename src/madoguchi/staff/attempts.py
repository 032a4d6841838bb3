"""Staff login attempts limited per account and per client address, BEFORE any password hashing.

Each attempt is counted first (`core.ratelimit.count_in_window`: one atomic upsert per scope), so
a refused attempt costs two statements and no hashing at all, and concurrent guesses can never
get more than the limit through. A successful login takes its count back: only failures lock.
The limits (`MADOGUCHI_STAFF_LOGIN_LIMITS`, attempts per fixed window) cannot be switched off.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import ngettext

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.ratelimit import client_ip, count_in_window, take_back

ACCOUNT, ADDRESS = "account", "address"
_SCOPE_PREFIX = "staff_login_"


def login_limits() -> dict[str, tuple[int, int]]:
    """{"account": (attempts, window_seconds), "address": (…)} from settings."""
    limits: dict[str, tuple[int, int]] = settings.MADOGUCHI_STAFF_LOGIN_LIMITS
    return dict(limits)


def account_key(username: str) -> str:
    """One counter per account however its name is typed (full-width, case, spaces)."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


@dataclass
class Attempt:
    """One counted login attempt: its keys, the counts after it, and whether it is refused."""

    keys: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)
    waits: dict[str, int] = field(default_factory=dict)

    def over_limit(self) -> list[str]:
        limits = login_limits()
        return [scope for scope, count in self.counts.items() if count > limits[scope][0]]

    @property
    def refused(self) -> bool:
        return bool(self.over_limit())

    def wait_seconds(self) -> int:
        scopes = self.over_limit() or list(self.just_locked())
        return max((self.waits[s] for s in scopes), default=0)

    def just_locked(self) -> list[str]:
        """Scopes whose last allowed attempt this was (a failure here starts the lockout)."""
        limits = login_limits()
        return [scope for scope, count in self.counts.items() if count == limits[scope][0]]

    def message(self) -> str:
        """The Japanese (or English) refusal, saying how long to wait."""
        minutes = max(1, math.ceil(self.wait_seconds() / 60))
        if ACCOUNT in (self.over_limit() or self.just_locked()):
            return ngettext(
                "ログインの失敗が続いたため、このアカウントを一時的にロックしました。"
                "%(minutes)d 分ほど待ってから、もう一度お試しください。",
                "ログインの失敗が続いたため、このアカウントを一時的にロックしました。"
                "%(minutes)d 分ほど待ってから、もう一度お試しください。",
                minutes,
            ) % {"minutes": minutes}
        return ngettext(
            "この端末からのログインの失敗が続いたため、一時的にログインを受け付けていません。"
            "%(minutes)d 分ほど待ってから、もう一度お試しください。",
            "この端末からのログインの失敗が続いたため、一時的にログインを受け付けていません。"
            "%(minutes)d 分ほど待ってから、もう一度お試しください。",
            minutes,
        ) % {"minutes": minutes}


def count_attempt(request: HttpRequest, username: str) -> Attempt:
    """Count this attempt against the account and the client address (before any hashing)."""
    attempt = Attempt(keys={ACCOUNT: account_key(username), ADDRESS: client_ip(request)})
    for scope, (_, window) in login_limits().items():
        count, wait = count_in_window(_SCOPE_PREFIX + scope, attempt.keys[scope], window)
        attempt.counts[scope], attempt.waits[scope] = count, wait
    return attempt


def succeeded(attempt: Attempt) -> None:
    """A successful login does not count towards a lockout."""
    for scope, (_, window) in login_limits().items():
        take_back(_SCOPE_PREFIX + scope, attempt.keys[scope], window)


def failed(attempt: Attempt, *, account_id: int | None) -> None:
    """After a wrong password: a lockout event for each limit this failure used up."""
    for scope in attempt.just_locked():
        record_audit_event(
            actor=Actor(f"client:{attempt.keys[ADDRESS]}"),
            action="staff.lockout",
            subject_type="staff.StaffUser" if scope == ACCOUNT else "client_address",
            subject_id=(account_id or "unknown") if scope == ACCOUNT else attempt.keys[ADDRESS],
            after={
                "limit": scope,
                "address": attempt.keys[ADDRESS],
                "until": (clock.now() + dt.timedelta(seconds=attempt.waits[scope])).isoformat(
                    timespec="seconds"
                ),
            },
        )
