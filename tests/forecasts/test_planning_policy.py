"""The planning policy: the former hard-coded values as defaults, edited in the admin (refused
with Japanese messages when out of range, audited when saved), and read by the backlog."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Field
from django.test import Client

from madoguchi.core.models import AuditEvent
from madoguchi.forecasts.models import (
    COUNTER_WORK_KINDS,
    PlanningPolicy,
    TemporaryCounterOption,
    policy_for,
)
from madoguchi.forecasts.selectors import backlog_view
from madoguchi.offices.models import Municipality
from madoguchi.staff.models import Role, StaffUser
from tests import personas
from tests.conftest import login_staff
from tests.forecasts.test_planning_pages import TODAY

pytestmark = pytest.mark.django_db
DEMO_CITY = personas.DemoCity(residents=400, seed=3)
"""The demo city of tests/forecasts/test_planning_pages.py."""


def _default(name: str) -> object:
    field = PlanningPolicy._meta.get_field(name)
    assert isinstance(field, Field)
    return field.default


def test_without_a_row_the_policy_is_the_former_hard_coded_one() -> None:
    town = Municipality.objects.create(code="999997", name="前提町")
    policy = policy_for(town.pk)
    assert policy.pk is None
    assert (policy.evening_starts_at, policy.evening_ends_at) == (dt.time(17, 15), dt.time(19))
    assert policy.evening_weekdays == [1, 3]
    assert (policy.saturday_starts_at, policy.saturday_ends_at) == (dt.time(9), dt.time(12))
    # the former cost weights, now the ratio of the yen rates
    assert (policy.evening_cost_weight, policy.weekend_cost_weight) == (
        Decimal("1.25"),
        Decimal("1.50"),
    )
    assert not policy.allow_sundays and policy.allow_temporary_counters
    assert not policy.allow_post_office
    # the seed's minutes: 15–20 a card, 10 a certificate
    assert (policy.card_pickup_minutes, policy.cert_renewal_minutes) == (20, 10)
    assert policy.hourly_rate_yen("official", "weekday") == 3000
    assert policy.hourly_rate_yen("contractor", "weekend") == 3600
    assert (policy.take_up_percent, policy.notice_delay_weeks) == (90, 1)
    assert (policy.evening_minutes, policy.saturday_minutes) == (105, 180)


@pytest.fixture
def admin_client(db: None) -> tuple[Client, Municipality]:
    town = Municipality.objects.create(code="999997", name="前提町")
    user = StaffUser.objects.create_superuser(
        "admin", password="pw", role=Role.ADMINISTRATOR, municipality=town
    )
    client = Client()
    login_staff(client, user)
    return client, town


def _form(town: Municipality, **overrides: str) -> dict[str, str]:
    form = {
        "municipality": str(town.pk),
        "allow_evenings": "on",
        "evening_weekdays": "[1, 3]",
        "evening_starts_at": "17:15",
        "evening_ends_at": "19:00",
        "allow_saturdays": "on",
        "saturday_starts_at": "09:00",
        "saturday_ends_at": "12:00",
        "sunday_starts_at": "09:00",
        "sunday_ends_at": "12:00",
        "allow_temporary_counters": "on",
        "post_office_fee_yen": "0",
        "post_office_share_percent": "10",
        "contractor_share_percent": "0",
        "patience_minutes": "0",
        "counter_application_percent": "20",
        "apply_in_person_percent": "10",
        "new_cards_per_1000_per_year": "38.7",
        "pin_resets_per_1000_per_month": "1.0",
        "other_visits_per_1000_per_month": "1.0",
        "take_up_percent": "90",
        "notice_delay_weeks": "1",
        "setup_deadline_days": "7",
        "service_level_percent": "80",
        "target_wait_minutes": "20",
    }
    for name in PlanningPolicy.rate_fields():
        form[name] = str(_default(name))
    for prefix, _label, _at_counter in COUNTER_WORK_KINDS:
        form[f"{prefix}_minutes"] = str(_default(f"{prefix}_minutes"))
        if _default(f"{prefix}_needs_terminal"):
            form[f"{prefix}_needs_terminal"] = "on"
    form.update(overrides)
    return form


BAD = {
    "a session of negative minutes": (
        {"evening_ends_at": "17:00"},
        "終了は開始より後にしてください",
    ),
    "a session of zero minutes": ({"saturday_ends_at": "09:00"}, "終了は開始より後にしてください"),
    "a session past 20:00": ({"evening_ends_at": "20:30"}, "カードの事務は20:00までです"),
    "a Saturday past 20:00": (
        {"saturday_starts_at": "18:00", "saturday_ends_at": "20:15"},
        "カードの事務は20:00までです",
    ),
    "a Sunday past 20:00": ({"sunday_ends_at": "20:01"}, "カードの事務は20:00までです"),
    "an evening rate below zero": ({"official_evening_yen": "-1"}, "費用は0以上にしてください"),
    "a contractor rate below zero": (
        {"contractor_sunday_yen": "-2500"},
        "費用は0以上にしてください",
    ),
    "a post-office fee below zero": ({"post_office_fee_yen": "-10"}, "費用は0以上にしてください"),
    "negative minutes a card": ({"card_pickup_minutes": "-5"}, "0〜240分で入力してください"),
    "negative set-up minutes": ({"setup_minutes": "-1"}, "0〜240分で入力してください"),
    "a whole day for a PIN": ({"pin_reset_minutes": "600"}, "0〜240分で入力してください"),
    "negative patience": ({"patience_minutes": "-3"}, "0〜480分で入力してください"),
    "a counter share above 100 %": (
        {"counter_application_percent": "101"},
        "割合は0〜100％で入力してください",
    ),
    "a negative in-person share": (
        {"apply_in_person_percent": "-1"},
        "割合は0〜100％で入力してください",
    ),
    "negative new cards": (
        {"new_cards_per_1000_per_year": "-1"},
        "0〜1,000で入力してください",
    ),
    "a take-up above 100 %": ({"take_up_percent": "120"}, "0〜100％で入力してください"),
    "a notice delay of months": ({"notice_delay_weeks": "12"}, "0〜8週で入力してください"),
    "a Saturday among the evenings": ({"evening_weekdays": "[1, 5]"}, "0（月曜）〜4（金曜）"),
    "no evening day": ({"evening_weekdays": "[]"}, "0（月曜）〜4（金曜）"),
    "a service level of 100 %": ({"service_level_percent": "100"}, "1〜99％で入力してください"),
    "a service level of 0 %": ({"service_level_percent": "0"}, "1〜99％で入力してください"),
    "a target wait of hours": ({"target_wait_minutes": "300"}, "0〜240分で入力してください"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_admin_refuses_a_policy_out_of_range_in_japanese(
    admin_client: tuple[Client, Municipality], case: str
) -> None:
    client, town = admin_client
    overrides, message = BAD[case]
    response = client.post("/admin/forecasts/planningpolicy/add/", _form(town, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PlanningPolicy.objects.exists()


def test_a_policy_saved_in_the_admin_is_audited(admin_client: tuple[Client, Municipality]) -> None:
    client, town = admin_client
    response = client.post(
        "/admin/forecasts/planningpolicy/add/", _form(town, take_up_percent="75")
    )
    assert response.status_code == 302
    assert policy_for(town.pk).take_up_percent == 75
    assert AuditEvent.objects.filter(subject_type="forecasts.PlanningPolicy").exists()


def test_the_backlog_reads_the_policy(demo_city: Municipality) -> None:
    personas.roomy_demo_sites(demo_city, today=TODAY)  # sessions long enough to lose seats
    default = backlog_view(demo_city, today=TODAY)
    assert default.data.take_up == pytest.approx(0.9) and default.data.notice_delay_weeks == 1
    assert {o.session_kind for o in default.options} == {"saturday", "evening"}
    evening = {o.site_id: o for o in default.options if o.session_kind == "evening"}
    assert all(o.label == "平日夜間 17:15〜19:00（火・木）" for o in evening.values())

    PlanningPolicy.objects.create(
        municipality=demo_city,
        allow_saturdays=False,
        evening_weekdays=[0, 2, 4],
        evening_ends_at=dt.time(18, 15),
        take_up_percent=60,
        notice_delay_weeks=2,
        official_evening_yen=6000,  # twice the weekday rate
    )
    changed = backlog_view(demo_city, today=TODAY)
    assert changed.data.take_up == pytest.approx(0.6) and changed.data.notice_delay_weeks == 2
    assert {o.session_kind for o in changed.options} == {"evening"}
    for option in changed.options:
        assert option.label == "平日夜間 17:15〜18:15（月・水・金）"
        assert option.max_per_week == 3
        before = evening[option.site_id]
        # an hour instead of 1 h 45: fewer seats a session, at twice the weight
        assert option.seats < before.seats
        assert option.cost / 60 == pytest.approx(2 * before.cost / 105 / 1.25)


def test_counters_for_the_service_level_grow_with_the_level_and_the_demand(
    demo_city: Municipality,
) -> None:
    from madoguchi.forecasts.selectors import counter_needs

    start = dt.date(2026, 12, 1)
    busy = {"pin_resets_per_1000_per_month": Decimal("3000")}  # a queue in a 400-resident city
    PlanningPolicy.objects.create(municipality=demo_city, **busy)
    base = counter_needs(demo_city, start=start, months=12, take_up=0.9)
    assert base is not None and base.sites
    assert (base.service_level_percent, base.target_wait_minutes) == (80, 20)
    for need in base.sites:
        for session in need.sessions:
            # never fewer counters than the booked visitors keep busy
            booked_load = session.booked_per_hour * session.service_minutes / 60
            assert session.counters_needed >= booked_load
            assert session.terminals_needed <= session.counters_needed
    PlanningPolicy.objects.filter(municipality=demo_city).update(
        pin_resets_per_1000_per_month=Decimal("6000")
    )
    more = counter_needs(demo_city, start=start, months=12, take_up=0.9)
    assert more is not None
    pairs = list(zip(base.sites, more.sites, strict=True))
    assert all(b.counters_needed <= m.counters_needed for b, m in pairs)
    PlanningPolicy.objects.filter(municipality=demo_city).update(
        service_level_percent=99, target_wait_minutes=0
    )
    strict = counter_needs(demo_city, start=start, months=12, take_up=0.9)
    assert strict is not None
    pairs = list(zip(more.sites, strict.sites, strict=True))
    assert all(b.counters_needed <= s.counters_needed for b, s in pairs)
    assert sum(s.counters_needed for _, s in pairs) > sum(b.counters_needed for b, _ in pairs)
    page = Client()
    login_staff(page, StaffUser.objects.get(username="demo-manager"))
    html = page.get("/staff/planning/").content.decode()
    assert "サービス水準に必要な窓口と端末" in html and "99％ を 0分以内" in html


def temporary_option_form(town: Municipality, **overrides: str) -> dict[str, str]:
    """The admin's add form of a temporary counter option, valid unless `overrides` spoil it."""
    form = {
        "municipality": str(town.pk),
        "name": "駅前臨時窓口",
        "opens_on": "2027-01-04",
        "closes_on": "2027-03-31",
        "weekdays": "[0, 1, 2, 3, 4, 5]",
        "starts_at": "10:00",
        "ends_at": "19:00",
        "counters": "3",
        "terminals": "3",
        "setup_cost_yen": "1500000",
        "monthly_cost_yen": "400000",
    }
    form.update(overrides)
    return form


TEMPORARY_BAD = {
    "closing before opening": ({"closes_on": "2027-01-01"}, "最終日は開設日以降にしてください"),
    "a session past 20:00": ({"ends_at": "20:30"}, "カードの事務は20:00までです"),
    "a set-up cost below zero": ({"setup_cost_yen": "-1"}, "費用は0以上にしてください"),
    "a monthly cost below zero": ({"monthly_cost_yen": "-100"}, "費用は0以上にしてください"),
    "no counter": ({"counters": "0"}, "窓口の数は1〜50で入力してください"),
    "a day 7": ({"weekdays": "[0, 7]"}, "0（月曜）〜6（日曜）"),
}


@pytest.mark.parametrize("case", sorted(TEMPORARY_BAD))
def test_the_admin_refuses_a_temporary_counter_out_of_range_in_japanese(
    admin_client: tuple[Client, Municipality], case: str
) -> None:
    client, town = admin_client
    overrides, message = TEMPORARY_BAD[case]
    response = client.post(
        "/admin/forecasts/temporarycounteroption/add/", temporary_option_form(town, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TemporaryCounterOption.objects.exists()


def test_a_temporary_counter_saved_in_the_admin_is_audited(
    admin_client: tuple[Client, Municipality],
) -> None:
    client, town = admin_client
    response = client.post(
        "/admin/forecasts/temporarycounteroption/add/", temporary_option_form(town)
    )
    assert response.status_code == 302
    option = TemporaryCounterOption.objects.get()
    assert (option.counters, option.setup_cost_yen, option.minutes_per_day) == (3, 1_500_000, 540)
    assert AuditEvent.objects.filter(subject_type="forecasts.TemporaryCounterOption").exists()


def test_the_yen_rates_set_the_backlog_cost_weights() -> None:
    policy = PlanningPolicy(official_weekday_yen=2000, official_evening_yen=3000)
    assert policy.evening_cost_weight == Decimal("1.5")
    mixed = PlanningPolicy(contractor_share_percent=50)
    # half officials at 3,000/4,500 yen, half contractors at 2,400/3,600 yen a Saturday hour
    assert mixed.blended_rate_yen("saturday") == pytest.approx(4050)
    assert mixed.weekend_cost_weight == Decimal("1.5")
