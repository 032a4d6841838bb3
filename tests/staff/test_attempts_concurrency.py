"""The login limit under real concurrency: parallel guesses against one account, each on its own
thread and database connection, all released together while the hasher is slow. Counting before
the password check lets exactly the limit through to the hasher; the negative control counts
after the check (as a check-then-record limiter does) and lets the burst through — proving the
test can see the race."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connections
from django.test import Client

from madoguchi.core.ratelimit import count_in_window
from madoguchi.staff import attempts
from madoguchi.staff.models import Role, StaffUser

pytestmark = pytest.mark.django_db(transaction=True)

GUESSES = 12
LIMIT = 5


class SlowCountingHasher(MD5PasswordHasher):
    """A hasher that takes 0.3 s (as PBKDF2 does on a busy machine) and counts its calls."""

    calls: ClassVar[int] = 0
    lock = threading.Lock()

    def encode(self, password: str, salt: str) -> str:
        with SlowCountingHasher.lock:
            SlowCountingHasher.calls += 1
        time.sleep(0.3)
        return super().encode(password, salt)


@pytest.fixture
def guessing(settings: Any) -> Callable[[], list[str]]:
    settings.PASSWORD_HASHERS = [f"{__name__}.SlowCountingHasher"]
    settings.MADOGUCHI_STAFF_LOGIN_LIMITS = {"account": (LIMIT, 900), "address": (1000, 900)}
    StaffUser.objects.create_user("hanako", password="kawa-sora-ringo-42", role=Role.OFFICIAL)
    SlowCountingHasher.calls = 0

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
                connections.close_all()
            with lock:
                results.append(result)

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return results

    return run


def test_parallel_guesses_get_exactly_the_limit_hashed(guessing: Callable[[], list[str]]) -> None:
    results = guessing()
    assert not [r for r in results if r.startswith("crash")], results
    assert SlowCountingHasher.calls == LIMIT
    assert len(results) == GUESSES


def test_negative_control_counting_after_the_check_lets_the_burst_through(
    guessing: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_count = attempts.count_attempt

    def check_only(request: Any, username: str) -> attempts.Attempt:
        attempt = real_count(request, username)
        attempts.succeeded(attempt)  # take it back: a check, not a count
        return attempt

    def count_after_failure(attempt: attempts.Attempt, *, account_id: int | None) -> None:
        for scope, (_, window) in attempts.login_limits().items():
            count_in_window(f"staff_login_{scope}", attempt.keys[scope], window)

    monkeypatch.setattr(attempts, "count_attempt", check_only)
    monkeypatch.setattr(attempts, "failed", count_after_failure)
    results = guessing()
    assert not [r for r in results if r.startswith("crash")], results
    assert SlowCountingHasher.calls > LIMIT
