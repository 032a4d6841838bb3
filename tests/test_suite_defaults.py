"""What one test sets never reaches the next: the suite's settings are set once per process
(tests/conftest.py, `_suite_settings`), and each test starts from them and from empty files and
caches (`start_from_suite_defaults`), its language and settings put back after it
(`reset_to_suite_defaults`, from `pytest_runtest_teardown`).

The first two tests change everything a test can change, the third — run after them in one
process, as pytest runs a file's tests in order — finds the suite's defaults. The last two call
the reset and the start themselves, so they prove them whatever order the tests run in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import translation

from madoguchi.core.sms import send_sms
from madoguchi.queue_board import views
from tests.conftest import (
    SUITE_SETTINGS,
    SmsOutbox,
    SuiteDefaults,
    reset_to_suite_defaults,
    start_from_suite_defaults,
)

MOBILE = "09012345678"


def _change_everything_a_test_can(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    django_settings.MADOGUCHI_RATE_LIMITS = {"booking": (1, 60)}  # straight into the suite's
    django_settings.MADOGUCHI_TWILIO_FROM = "+15005550006"  # layer, which had no such one
    del django_settings.MADOGUCHI_REFERENCE_CACHE_SECONDS
    settings.MADOGUCHI_AUDIT_SEAL_MS = 250  # the `settings` fixture: a layer above it
    override_settings(MADOGUCHI_PAGE_CACHE_SECONDS=5).enable()  # and never disabled
    monkeypatch.setattr(views, "DISPLAY_CACHE_SECONDS", 1)
    views.CONGESTION_CACHE_SECONDS = 5  # straight
    translation.activate("vi")
    cache.set("left-behind", 1)
    snapshots: dict[Any, Any] = views._snapshots
    snapshots[-1] = "left behind"  # no site's id
    send_sms(MOBILE, "left behind")


def _assert_the_suite_s_defaults(sms_outbox: SmsOutbox, suite: SuiteDefaults) -> None:
    for name, value in SUITE_SETTINGS.items():
        assert getattr(django_settings, name) == value, name
    assert str(suite.sms_file) == django_settings.MADOGUCHI_SMS_FILE
    assert suite.checkpoint_file == django_settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE
    assert vars(django_settings)["_wrapped"] is suite.holder
    assert (
        django_settings.MADOGUCHI_TWILIO_FROM == suite.holder.default_settings.MADOGUCHI_TWILIO_FROM
    )
    assert views.DISPLAY_CACHE_SECONDS == 0
    assert views.CONGESTION_CACHE_SECONDS == 0
    assert translation.get_language() == django_settings.LANGUAGE_CODE
    assert cache.get("left-behind") is None
    assert -1 not in views._snapshots
    assert sms_outbox.messages == []
    assert not Path(django_settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE).exists()


def test_1_a_test_changes_settings_language_caches_and_files(
    settings: Any, monkeypatch: pytest.MonkeyPatch, sms_outbox: SmsOutbox
) -> None:
    _change_everything_a_test_can(settings, monkeypatch)
    Path(django_settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE).write_text("{}\n", encoding="utf-8")
    assert django_settings.MADOGUCHI_AUDIT_SEAL_MS == 250
    assert django_settings.MADOGUCHI_RATE_LIMITS == {"booking": (1, 60)}
    assert django_settings.MADOGUCHI_PAGE_CACHE_SECONDS == 5
    assert [m["body"] for m in sms_outbox.messages] == ["left behind"]


def test_2_another_sets_a_setting_with_the_settings_fixture_only(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    assert django_settings.PASSWORD_HASHERS == settings.PASSWORD_HASHERS


def test_3_the_next_test_starts_from_the_suite_s_defaults(
    sms_outbox: SmsOutbox, suite_defaults: SuiteDefaults
) -> None:
    _assert_the_suite_s_defaults(sms_outbox, suite_defaults)


def test_the_reset_and_the_start_undo_what_a_test_changed(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    sms_outbox: SmsOutbox,
    suite_defaults: SuiteDefaults,
) -> None:
    _change_everything_a_test_can(settings, monkeypatch)
    Path(django_settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE).write_text("{}\n", encoding="utf-8")
    monkeypatch.undo()  # as its tear-down does, before the reset
    reset_to_suite_defaults(suite_defaults)
    start_from_suite_defaults(suite_defaults)
    _assert_the_suite_s_defaults(sms_outbox, suite_defaults)


def test_without_the_start_what_a_test_left_is_still_there(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    sms_outbox: SmsOutbox,
    suite_defaults: SuiteDefaults,
) -> None:
    """The control: the assertions above see what a test leaves when nothing empties it."""
    _change_everything_a_test_can(settings, monkeypatch)
    monkeypatch.undo()
    reset_to_suite_defaults(suite_defaults)
    with pytest.raises(AssertionError):
        _assert_the_suite_s_defaults(sms_outbox, suite_defaults)
    assert cache.get("left-behind") == 1
    assert [m["body"] for m in sms_outbox.messages] == ["left behind"]
