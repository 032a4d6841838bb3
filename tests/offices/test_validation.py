"""Bad configuration is refused with a clear Japanese message in the admin, and nothing is saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from madoguchi.core.validators import municipality_code_check_digit, validate_municipality_code
from madoguchi.offices.models import Municipality, OpeningSession, Site, SiteKind
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import login_staff
from tests.offices import factories


@pytest.mark.parametrize("code", ["131041", "011002", "131016", "271004", "999997"])
def test_real_municipality_codes_pass_the_check_digit(code: str) -> None:
    validate_municipality_code(code)
    assert municipality_code_check_digit(code[:5]) == int(code[5])


@pytest.mark.parametrize(
    ("code", "message"),
    [("131042", "検査数字"), ("13104", "6桁"), ("１３１０４１", "6桁"), ("13104a", "6桁")],
)
def test_bad_municipality_codes_are_refused(code: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_municipality_code(code)


@pytest.fixture
def admin_client(db: None) -> Client:
    user = StaffUser.objects.create_superuser("admin", password="pw", role=Role.ADMINISTRATOR)
    client = Client()
    login_staff(client, user)
    return client


def test_admin_refuses_an_invalid_municipality_code(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/offices/municipality/add/",
        {
            "code": "131042",
            "name": "誤り市",
            "booking_window_min_days": 3,
            "booking_window_max_days": 45,
            "cancellation_cutoff_days": 2,
            "walkin_share_percent": 20,
            "official_required_steps": "[]",
        },
    )
    assert response.status_code == 200
    assert "検査数字" in response.content.decode()
    assert not Municipality.objects.exists()


def _session_form(site: Site, **overrides: str) -> dict[str, str]:
    form = {
        "site": str(site.pk),
        "weekday": "0",
        "kind": "weekday",
        "starts_at_time": "08:30",
        "ends_at_time": "17:15",
        "counters_open": "1",
    }
    form.update(overrides)
    return form


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"starts_at_time": "17:00", "ends_at_time": "09:00"}, "終了時刻は開始時刻より後"),
        ({"kind": "evening", "starts_at_time": "17:15", "ends_at_time": "20:30"}, "20:00"),
        ({"weekday": "5"}, "休日"),
        ({"counters_open": "9"}, "窓口は 2 か所"),
    ],
)
def test_admin_refuses_invalid_sessions(
    admin_client: Client, overrides: dict[str, str], message: str
) -> None:
    site = factories.site(factories.municipality(), weekday_hours=None)
    response = admin_client.post(
        "/admin/offices/openingsession/add/", _session_form(site, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not OpeningSession.objects.exists()


def test_admin_refuses_overlapping_sessions(admin_client: Client) -> None:
    site = factories.site(factories.municipality())  # Monday 08:30–17:15 exists
    response = admin_client.post(
        "/admin/offices/openingsession/add/",
        _session_form(site, kind="evening", starts_at_time="17:00", ends_at_time="19:00"),
    )
    assert "重なっています" in response.content.decode()
    assert OpeningSession.objects.filter(site=site, weekday=0).count() == 1


def test_sessions_that_only_touch_are_accepted(admin_client: Client) -> None:
    site = factories.site(factories.municipality())
    response = admin_client.post(
        "/admin/offices/openingsession/add/",
        _session_form(site, kind="evening", starts_at_time="17:15", ends_at_time="19:00"),
    )
    assert response.status_code == 302
    assert OpeningSession.objects.filter(site=site, weekday=0).count() == 2


def test_admin_refuses_a_temporary_counter_closing_before_it_opens(admin_client: Client) -> None:
    city = factories.municipality()
    response = admin_client.post(
        "/admin/offices/site/add/",
        {
            "municipality": str(city.pk),
            "name": "駅前臨時窓口",
            "kind": SiteKind.TEMPORARY,
            "address": "駅前1",
            "open_from": "2027-01-31",
            "open_until": "2027-01-01",
            "is_active": "on",
            "counters-TOTAL_FORMS": "0",
            "counters-INITIAL_FORMS": "0",
            "terminals-TOTAL_FORMS": "0",
            "terminals-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "閉設日が開設日より前" in response.content.decode()
    assert not Site.objects.exists()


def test_admin_refuses_card_hand_over_at_a_post_office(admin_client: Client) -> None:
    city = factories.municipality()
    card = factories.procedure("card_pickup")
    response = admin_client.post(
        "/admin/offices/site/add/",
        {
            "municipality": str(city.pk),
            "name": "中央郵便局",
            "kind": SiteKind.POST_OFFICE,
            "address": "中央1",
            "procedures": [str(card.pk)],
            "is_active": "on",
            "counters-TOTAL_FORMS": "0",
            "counters-INITIAL_FORMS": "0",
            "terminals-TOTAL_FORMS": "0",
            "terminals-INITIAL_FORMS": "0",
        },
    )
    assert "取り扱えない手続き" in response.content.decode()
    assert not Site.objects.exists()


def test_an_admin_change_is_audited(admin_client: Client) -> None:
    from madoguchi.core.models import AuditEvent

    site = factories.site(factories.municipality(), weekday_hours=None)
    response = admin_client.post("/admin/offices/openingsession/add/", _session_form(site))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.add", subject_type="offices.OpeningSession")
    assert event.actor.startswith("staff:")
    assert event.after["ends_at_time"] == "17:15:00"


def test_the_database_refuses_a_session_past_20_even_without_the_admin(db: None) -> None:
    from django.db import IntegrityError, transaction

    site = factories.site(factories.municipality(), weekday_hours=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningSession.objects.create(
            site=site,
            weekday=2,
            kind="evening",
            starts_at_time=dt.time(18),
            ends_at_time=dt.time(21),
        )
