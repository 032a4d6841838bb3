"""The login limit under real concurrency: parallel guesses against one account, each on its own
thread and database connection, all released together. The hasher holds every guess that reaches
it until each guess has either reached it or been answered without it — so no guess finishes its
password check before all the others were counted or let through, however loaded the machine.
Counting before the password check lets exactly the limit through to the hasher; the negative
control counts after the check (as a check-then-record limiter does) and lets the whole burst
through — proving the test can see the race."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connections
from django.test import Client

from madoguchi.core.models import RateCounter
from madoguchi.core.ratelimit import _counter_key, client_ip, count_in_window
from madoguchi.staff import attempts
from madoguchi.staff.models import Role, StaffUser

pytestmark = pytest.mark.django_db(transaction=True)

GUESSES = 12
LIMIT = 5
HOLD_AT_MOST_SECONDS = 120
"""Only a broken test waits this long (a guess stuck elsewhere); the assertion then says so."""


class HoldingCountingHasher(MD5PasswordHasher):
    """A hasher that counts its calls and, while a burst runs (`holding`), holds each call until
    every guess of the burst has reached it or been answered (`answered`)."""

    calls: ClassVar[int] = 0
    answered: ClassVar[int] = 0
    holding: ClassVar[bool] = False
    state = threading.Condition()

    @classmethod
    def _everyone_is_in(cls) -> bool:
        return cls.calls + cls.answered >= GUESSES

    def encode(self, password: str, salt: str) -> str:
        with HoldingCountingHasher.state:
            HoldingCountingHasher.calls += 1
            HoldingCountingHasher.state.notify_all()
            if HoldingCountingHasher.holding:
                released = HoldingCountingHasher.state.wait_for(
                    HoldingCountingHasher._everyone_is_in, timeout=HOLD_AT_MOST_SECONDS
                )
                assert released, "a guess neither reached the hasher nor was answered"
        return super().encode(password, salt)

    @classmethod
    def one_answered(cls) -> None:
        with cls.state:
            cls.answered += 1
            cls.state.notify_all()


@pytest.fixture
def guessing(settings: Any) -> Callable[[], list[str]]:
    settings.PASSWORD_HASHERS = [f"{__name__}.HoldingCountingHasher"]
    settings.MADOGUCHI_STAFF_LOGIN_LIMITS = {"account": (LIMIT, 900), "address": (1000, 900)}
    HoldingCountingHasher.holding = False
    StaffUser.objects.create_user("hanako", password="kawa-sora-ringo-42", role=Role.OFFICIAL)
    HoldingCountingHasher.calls = HoldingCountingHasher.answered = 0

    def run() -> list[str]:
        barrier = threading.Barrier(GUESSES)
        results: list[str] = []
        lock = threading.Lock()

        def guess(n: int) -> None:
            try:
                barrier.wait(timeout=30)
                page = (
                    Client()
                    .post(
                        "/staff/login/",
                        {"username": "hanako", "password": f"guess-{n}"},
                        REMOTE_ADDR=f"198.51.100.{n}",
                    )
                    .content.decode()
                )
                result = "locked" if "ロックしました" in page else "wrong"
            except Exception as error:  # reported in the assertion, never swallowed
                result = f"crash {type(error).__name__}: {error}"
            finally:
                HoldingCountingHasher.one_answered()
                connections.close_all()
            with lock:
                results.append(result)

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSES)]
        HoldingCountingHasher.holding = True
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=2 * HOLD_AT_MOST_SECONDS)
        finally:
            HoldingCountingHasher.holding = False
        return results

    return run


def test_parallel_guesses_get_exactly_the_limit_hashed(guessing: Callable[[], list[str]]) -> None:
    results = guessing()
    assert not [r for r in results if r.startswith("crash")], results
    assert HoldingCountingHasher.calls == LIMIT
    assert len(results) == GUESSES


def test_negative_control_counting_after_the_check_lets_the_burst_through(
    guessing: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check-then-record: the check only reads the counter, the count is written after the wrong
    password. Nothing is recorded before the hasher lets the burst go, so every guess reads 0
    and the whole burst is hashed — deterministically, however the threads interleave."""

    def check_only(request: Any, username: str) -> attempts.Attempt:
        attempt = attempts.Attempt(
            keys={
                attempts.ACCOUNT: attempts.account_key(username),
                attempts.ADDRESS: client_ip(request),
            }
        )
        for scope, (_, window) in attempts.login_limits().items():
            counter_key, bucket, stamp = _counter_key(
                f"staff_login_{scope}", attempt.keys[scope], window
            )
            stored = RateCounter.objects.filter(key=counter_key).values_list("count", flat=True)
            attempt.counts[scope] = (stored.first() or 0) + 1
            attempt.waits[scope] = (bucket + 1) * window - stamp
        return attempt

    def count_after_failure(attempt: attempts.Attempt, *, account_id: int | None) -> None:
        for scope, (_, window) in attempts.login_limits().items():
            count_in_window(f"staff_login_{scope}", attempt.keys[scope], window)

    monkeypatch.setattr(attempts, "count_attempt", check_only)
    monkeypatch.setattr(attempts, "failed", count_after_failure)
    results = guessing()
    assert not [r for r in results if r.startswith("crash")], results
    assert HoldingCountingHasher.calls == GUESSES
