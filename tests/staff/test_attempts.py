"""Login attempts are limited per account and per client address, with a lockout that says how
long to wait; a refused attempt is counted before — and instead of — any password hashing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from madoguchi.core.models import AuditEvent
from madoguchi.staff.models import StaffUser
from tests.staff.conftest import ADDRESS, PASSWORD, sign_in

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-7"


class CountingHasher(MD5PasswordHasher):
    """Counts every hash computed (checking a password, or the dummy hash for unknown names)."""

    calls: ClassVar[int] = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings: Any) -> type[CountingHasher]:
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.calls = 0
    return CountingHasher


@pytest.fixture
def limits(settings: Any) -> Any:
    def set_limits(account: int, address: int, window: int = 900) -> None:
        settings.MADOGUCHI_STAFF_LOGIN_LIMITS = {
            "account": (account, window),
            "address": (address, window),
        }

    return set_limits


def errors(response: Any) -> str:
    content: bytes = response.content
    return content.decode()


def test_an_account_is_locked_after_its_failures_and_says_how_long(
    member: StaffUser, limits: Any, frozen: Any
) -> None:
    limits(account=3, address=100)
    frozen.move_to(dt.datetime(2026, 6, 1, 0, 5, tzinfo=dt.UTC))  # 10 min before the window ends
    for n in range(2):
        page = errors(sign_in(Client(), "hanako", WRONG, address=f"198.51.100.{n}"))
        assert "ユーザー名またはパスワードが違います。" in page
        assert "ロック" not in page
    third = errors(sign_in(Client(), "hanako", WRONG, address="198.51.100.9"))
    assert "このアカウントを一時的にロックしました。10 分ほど待ってから" in third

    # Locked: even the right password, from anywhere, is refused with the wait.
    refused = sign_in(Client(), "hanako", PASSWORD, address="203.0.113.1")
    assert refused.status_code == 200
    assert "このアカウントを一時的にロックしました。10 分ほど待ってから" in errors(refused)
    frozen.move_to(dt.datetime(2026, 6, 1, 0, 11, tzinfo=dt.UTC))
    assert "4 分ほど待ってから" in errors(sign_in(Client(), "hanako", PASSWORD))

    # Other spellings of the name share the account's counter.
    assert "ロックしました" in errors(sign_in(Client(), "ＨＡＮＡＫＯ ", PASSWORD))

    frozen.move_to(dt.datetime(2026, 6, 1, 0, 15, 1, tzinfo=dt.UTC))  # the next window
    assert sign_in(Client(), "hanako", PASSWORD)["Location"].startswith("/staff/otp/")

    lockouts = AuditEvent.objects.filter(action="staff.lockout")
    assert [(e.subject_id, e.after["limit"]) for e in lockouts] == [(str(member.pk), "account")]
    assert lockouts[0].after["until"] == "2026-06-01T09:15:00+09:00"


def test_an_address_is_locked_after_failures_on_any_accounts(
    member: StaffUser, limits: Any, frozen: Any
) -> None:
    limits(account=100, address=3)
    for name in ("hanako", "taro", "jiro"):
        sign_in(Client(), name, WRONG)
    refused = errors(sign_in(Client(), "hanako", PASSWORD))
    assert "この端末からのログインの失敗が続いたため" in refused
    assert "分ほど待ってから、もう一度お試しください。" in refused
    # Another address is not affected.
    assert sign_in(Client(), "hanako", PASSWORD, address="203.0.113.7").status_code == 302
    event = AuditEvent.objects.get(action="staff.lockout")
    assert (event.subject_type, event.subject_id) == ("client_address", ADDRESS)


def test_successful_logins_do_not_count_towards_a_lockout(
    member: StaffUser, limits: Any, frozen: Any
) -> None:
    limits(account=3, address=3)
    sign_in(Client(), "hanako", WRONG)
    sign_in(Client(), "hanako", WRONG)
    for _ in range(5):
        assert sign_in(Client(), "hanako", PASSWORD).status_code == 302
    assert "ロックしました" in errors(sign_in(Client(), "hanako", WRONG))


def test_refused_attempts_hash_nothing(
    member: StaffUser, limits: Any, counting_hasher: type[CountingHasher], frozen: Any
) -> None:
    limits(account=5, address=1000)
    for n in range(5):  # the allowed attempts: one hash each (the negative control)
        sign_in(Client(), "hanako", WRONG)
        assert counting_hasher.calls == n + 1
    for _ in range(50):  # a guessing run against the locked account
        response = sign_in(Client(), "hanako", WRONG)
        assert "ロックしました" in errors(response)
    assert counting_hasher.calls == 5

    limits(account=1000, address=3)  # the same for an address, with unknown account names
    for n in range(3):
        sign_in(Client(), f"nobody-{n}", WRONG, address="198.51.100.77")
    hashed = counting_hasher.calls
    assert hashed == 5 + 3  # Django hashes once for an unknown name too (timing)
    for n in range(20):
        sign_in(Client(), f"guess-{n}", WRONG, address="198.51.100.77")
    assert counting_hasher.calls == hashed


def test_failed_logins_are_audited_without_the_password(
    member: StaffUser, limits: Any, frozen: Any
) -> None:
    limits(account=5, address=100)
    sign_in(Client(), "hanako", WRONG)
    sign_in(Client(), "typed-a-password-here", WRONG)
    failed = list(AuditEvent.objects.filter(action="staff.login_failed").order_by("id"))
    assert [(e.subject_id, e.after["account_exists"]) for e in failed] == [
        (str(member.pk), True),
        ("unknown", False),
    ]
    assert all(e.after["address"] == ADDRESS for e in failed)
    everything = json.dumps(
        list(AuditEvent.objects.values("actor", "subject_id", "before", "after")),
        ensure_ascii=False,
    )
    assert WRONG not in everything
    assert "typed-a-password-here" not in everything
    assert member.password not in everything
