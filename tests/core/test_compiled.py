"""`core.compiled.KeptRead`: a row by its unique key, read as the ORM reads it, its statement
compiled once per connection; and the three reads every signed-in request makes through it —
the session (`core.sessions`), the user (`staff.backends`), the second factor's device
(`staff.middleware.SecondFactorMiddleware`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.core import clock
from madoguchi.core.compiled import KeptRead
from madoguchi.core.sessions import SessionStore
from madoguchi.staff.backends import StaffBackend
from madoguchi.staff.middleware import SecondFactorMiddleware
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import login_staff
from tests.offices import factories as offices

pytestmark = pytest.mark.django_db


def _member(username: str = "kept_read", **fields: Any) -> StaffUser:
    return StaffUser.objects.create_user(
        username=username, password="x-" * 8, role=Role.MANAGER, **fields
    )


def _fields(instance: Any) -> dict[str, tuple[type, Any]]:
    return {
        field.attname: (type(getattr(instance, field.attname)), getattr(instance, field.attname))
        for field in type(instance)._meta.concrete_fields
    }


def test_the_row_as_the_orm_reads_it_each_value_converted() -> None:
    member = _member(last_login=dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC))
    read = KeptRead(StaffUser, "pk")

    kept = read.get(member.pk)

    orm = StaffUser.objects.get(pk=member.pk)
    assert kept is not None and kept == orm
    assert _fields(kept) == _fields(orm)  # the datetime aware, booleans as bool, as the ORM's
    assert not kept._state.adding and kept._state.db == orm._state.db


def test_compiled_once_per_connection_then_only_sent() -> None:
    first, second = _member("kept_one"), _member("kept_two")
    read = KeptRead(StaffUser, "pk")
    assert read.get(first.pk) == first  # compiled here

    def no_compiling(*_: Any, **__: Any) -> Any:
        raise AssertionError("compiled again")

    original = SQLCompiler.as_sql
    SQLCompiler.as_sql = no_compiling  # type: ignore[method-assign]
    try:
        with CaptureQueriesContext(connection) as sent:
            found = read.get(second.pk)
            missing = read.get(second.pk + 1000)
    finally:
        SQLCompiler.as_sql = original  # type: ignore[method-assign]
    assert found == second and found is not None and found.username == "kept_two"
    assert missing is None
    assert len(sent) == 2  # each read still a query of its own, logged as any other


def test_no_key_no_query_and_a_key_of_the_wrong_type_refused_as_the_orm_refuses() -> None:
    read = KeptRead(StaffUser, "pk")
    with CaptureQueriesContext(connection) as sent:
        assert read.get(None) is None
    assert len(sent) == 0
    with pytest.raises(ValueError):
        StaffUser.objects.filter(pk="seven").first()
    with pytest.raises(ValueError):
        read.get("seven")


def test_only_for_a_unique_key() -> None:
    with pytest.raises(ValueError, match="not unique"):
        KeptRead(StaffUser, "role")
    KeptRead(StaffUser, "username")  # unique: accepted


def test_the_session_store_reads_a_live_session_and_forgets_an_expired_one(frozen: Any) -> None:
    store = SessionStore()
    store["kept"] = "yes"
    store.set_expiry(60)
    store.save()
    key = store.session_key

    assert SessionStore(key).load() == {"kept": "yes", "_session_expiry": 60}

    frozen.move_to(clock.now() + dt.timedelta(seconds=61))
    expired = SessionStore(key)
    assert expired.load() == {}
    assert expired.session_key is None  # forgotten, as Django's database store does
    assert Session.objects.filter(session_key=key).exists()  # the row is the cleanup's


def test_the_backend_gives_an_active_member_only() -> None:
    active, inactive = _member("kept_active"), _member("kept_inactive", is_active=False)
    backend = StaffBackend()
    assert backend.get_user(active.pk) == active
    assert backend.get_user(inactive.pk) is None
    assert backend.get_user(inactive.pk + 1000) is None


def test_the_second_factor_is_the_sessions_device_as_django_otp_finds_it() -> None:
    member = _member("kept_device")
    totp = TOTPDevice.objects.create(user=member, name="認証アプリ", confirmed=True)
    static = StaticDevice.objects.create(user=member, name="予備コード", confirmed=True)
    middleware = SecondFactorMiddleware(lambda request: None)
    find = middleware._device_from_persistent_id
    assert find(totp.persistent_id) == totp and isinstance(find(totp.persistent_id), TOTPDevice)
    assert find(static.persistent_id) == static
    assert find(f"django_otp.plugins.otp_totp.models.TOTPDevice/{totp.pk}") == totp  # legacy
    for broken in (
        f"otp_totp.totpdevice/{totp.pk + 1000}",  # no row
        f"staff.staffuser/{member.pk}",  # not a device
        f"nothing.here/{totp.pk}",  # no such model
        "otp_totp.totpdevice/seven",  # no number
        "otp_totp.totpdevice",  # no id
    ):
        assert find(broken) is None, broken


def test_a_signed_in_request_sends_its_three_reads_and_is_verified() -> None:
    member = _member("kept_request", municipality=offices.municipality())
    client = Client()
    login_staff(client, member)
    with CaptureQueriesContext(connection) as sent:
        response = client.get("/staff/")
    assert response.status_code == 200
    first = [query["sql"] for query in sent.captured_queries[:3]]
    assert "django_session" in first[0] and "staff_staffuser" in first[1], first
    assert "otp_totp_totpdevice" in first[2], first

    # the device unconfirmed: the same session is no longer verified
    TOTPDevice.objects.filter(user=member).update(confirmed=False)
    assert client.get("/staff/").status_code == 302
    assert DEVICE_ID_SESSION_KEY not in client.session
