"""The planning pages: the demo city's wave, capacity against demand, the backlog warning."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from madoguchi.core.audit import Actor
from madoguchi.forecasts.models import PlanningPolicy, TemporaryCounterOption
from madoguchi.forecasts.selectors import WhatIf, backlog_view, capacity_plan
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.offices.models import Municipality, Site, SiteKind
from madoguchi.planning.backlog import propose_openings
from madoguchi.reservations.models import Slot
from madoguchi.reservations.slots import regenerate_slots
from madoguchi.staff.models import StaffUser
from tests import personas
from tests.conftest import login_staff

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)


DEMO_CITY = personas.DemoCity(residents=400, seed=3)


def shown_plan(client: Client) -> str:
    """The fingerprint of the plan the planning page shows (its apply form's hidden field)."""
    page = client.get("/staff/planning/").content.decode()
    found = re.search(r'name="plan" value="([0-9a-f]{64})"', page)
    assert found, "the page shows no plan to apply"
    return found.group(1)


def apply_shown_plan(client: Client) -> Any:
    """Apply the plan the planning page shows, as its button does."""
    return client.post("/staff/planning/apply/", {"plan": shown_plan(client)})


def _client(username: str) -> Client:
    client = Client()
    login_staff(client, StaffUser.objects.get(username=username))
    return client


def _notified_cards(municipality: Municipality, count: int) -> None:
    """`count` cards of `municipality` with their notice issued, the same but for their
    application ids ("9" and n in 22 digits, n from 0): the first made as a model (every
    other field Django's default), the others copied from its row in one INSERT … SELECT —
    bulk_create's INSERTs built each card's forty-odd values in Python, 0.3 s CPU for 1,160
    cards (the copy: the same rows, no post_save, as bulk_create)."""
    if count <= 0:
        return
    (first,) = CardRecord.objects.bulk_create(
        [
            CardRecord(
                municipality=municipality,
                application_id=f"9{0:022d}",
                family_name="試験",
                family_name_kana="シケン",
                birth_date=dt.date(1980, 1, 1),
                postal_code="123-4567",
                address="デモ市",
                application_kind="renewal",
                delivered_on=TODAY - dt.timedelta(days=10),
                status=CardStatus.NOTICE_ISSUED,
            )
        ]
    )
    meta = CardRecord._meta
    quote = connection.ops.quote_name
    copied = ", ".join(
        quote(f.column)
        for f in meta.concrete_fields
        if not f.primary_key and f.name != "application_id"
    )
    padded = (
        "lpad(n::text, 22, '0')"
        if connection.vendor == "postgresql"
        else "substr('0000000000000000000000' || n, -22)"
    )
    if count == 1:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < %s) "
            f"INSERT INTO {quote(meta.db_table)} ({copied}, {quote('application_id')}) "
            f"SELECT {copied}, '9' || {padded} FROM {quote(meta.db_table)}, seq "
            f"WHERE {quote(meta.pk.column)} = %s",
            [count, first.pk],
        )


def test_the_planning_page_shows_the_wave_and_the_capacity(demo_city: Municipality) -> None:
    response = _client("demo-manager").get("/staff/planning/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "更新の見込み（月別）" in html
    assert html.count("<svg") == 4  # backlog, wave, holding rates, capacity
    assert "カードの保有状況" in html and "北町" in html
    assert "2026-11" in html


def test_officials_and_contractors_cannot_open_the_planning_page(demo_city: Municipality) -> None:
    assert _client("demo-contractor").get("/staff/planning/").status_code == 403
    assert _client("demo-official").get("/staff/planning/").status_code == 403


def test_what_if_more_counters_raises_capacity(demo_city: Municipality) -> None:
    main = Site.objects.get(kind=SiteKind.MAIN_OFFICE)
    base = capacity_plan(demo_city, start=dt.date(2026, 12, 1), months=3)
    more = capacity_plan(
        demo_city,
        start=dt.date(2026, 12, 1),
        months=3,
        what_if=WhatIf(saturday_counters={main.pk: 4}),
    )
    # December 2026 has four Saturdays before the year-end closure: 4 × 3 h × 4 counters.
    assert more.capacity_hours[0] - base.capacity_hours[0] == pytest.approx(48)
    page = _client("demo-manager").get(
        "/staff/planning/",
        {"months": 6, "take_up": 90, "site": main.pk, "saturday_counters": 4},
    )
    assert "試算の能力" in page.content.decode()


def test_what_if_form_rejects_counters_without_a_site(demo_city: Municipality) -> None:
    page = _client("demo-manager").get(
        "/staff/planning/", {"months": 6, "take_up": 90, "extra_counters": 2}
    )
    assert "対象の窓口を選んでください" in page.content.decode()


def _pickup_seats() -> int:
    return sum(
        Slot.objects.filter(procedure__code="card_pickup").values_list("capacity", flat=True)
    )


WARNING = "目標（14日以内）を超える週があります"


def test_a_pile_the_options_cannot_absorb_is_named_with_what_it_still_needs(
    demo_city: Municipality,
) -> None:
    _notified_cards(demo_city, 3000)
    regenerate_slots(first=TODAY, last=TODAY + dt.timedelta(days=83), actor=Actor.system("test"))
    view = backlog_view(demo_city, today=TODAY)
    result = propose_openings(view.data, view.options, target_days=14)
    assert not result.resolved and result.unresolved_site_ids
    assert set(result.shortfall_seats_per_week) == set(result.unresolved_site_ids)
    page = _client("demo-manager").get("/staff/planning/").content.decode()
    assert "計画の前提で選べる手段（臨時開庁・臨時窓口）だけでは解消できない窓口があります" in page
    assert "臨時窓口の開設、交付前設定の外部委託、端末の追加など" in page
    assert "すべての窓口が目標に収まる見込みです" not in page


def test_only_managers_apply_proposals(demo_city: Municipality) -> None:
    assert _client("demo-official").post("/staff/planning/apply/").status_code == 403


def test_uploaded_application_counts_drive_the_expected_arrivals(demo_city: Municipality) -> None:
    from madoguchi.issuance.services import store_application_counts

    before = backlog_view(demo_city, today=TODAY).data.arrivals
    # 10,000 applications a week for the last eight weeks arrive over the next weeks.
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    counts = {monday - dt.timedelta(weeks=w): 10_000 for w in range(1, 9)}
    store_application_counts(municipality=demo_city, counts=counts, actor=Actor.system("test"))
    after = backlog_view(demo_city, today=TODAY).data.arrivals
    assert after[1] > before[1] + 5_000
    assert sum(after) > sum(before) + 40_000


def test_the_backlog_says_where_its_arrivals_come_from(demo_city: Municipality) -> None:
    from madoguchi.issuance.models import ApplicationCount

    counted = "週は週ごとの申請件数から製造期間をへた見込み"
    average = "（過去4週の平均）、通知書の発送待ち"
    assert ApplicationCount.objects.filter(municipality=demo_city).exists()  # the demo's own
    page = _client("demo-manager").get("/staff/planning/").content.decode()
    assert counted in page and average not in page
    ApplicationCount.objects.filter(municipality=demo_city).delete()
    page = _client("demo-manager").get("/staff/planning/").content.decode()
    assert average in page and counted not in page


def test_the_backlog_reads_each_sites_calendar_once(
    demo_city: Municipality, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site's free seats and the openings it could add come from one read of its calendar,
    procedures and counts (`site_slot_inputs`): the free seats read them a second time."""
    from madoguchi.offices.calendar import SiteCalendar

    loaded: list[int] = []
    load_many = SiteCalendar.load_many

    def counted(sites: Sequence[Site]) -> dict[int, SiteCalendar]:
        loaded.extend(site.pk for site in sites)
        return load_many(sites)

    monkeypatch.setattr(SiteCalendar, "load_many", counted)
    view = backlog_view(demo_city, today=TODAY)
    assert view.data.sites  # the control: the demo city's sites are there
    assert sorted(loaded) == sorted(s.site_id for s in view.data.sites)


def test_the_planning_figures_read_each_sites_calendar_once(demo_city: Municipality) -> None:
    """The planning page's capacity, backlog and counter needs come from one read of the
    sites' calendars, procedures and counts (`municipality_site_inputs`) — each read them
    again: a site's sessions, closures and special openings in three statements each (the
    demo city: 14 of each for 5 sites), now one for all the sites — and of the planning
    policy (each read it: 5 reads), the register's current snapshot read once for the counter
    work (it was read twice), and they are the figures each computes reading the sites and the
    policy itself."""
    from django.test.utils import CaptureQueriesContext

    from madoguchi.forecasts.selectors import capacity_plans, counter_needs
    from madoguchi.staff_console.forecasts.views import planning_figures

    start, months, take_up = TODAY.replace(day=1), 12, 0.8
    tried = WhatIf(extra_counters={demo_city.sites.filter(is_active=True)[0].pk: 1})
    with CaptureQueriesContext(connection) as statements:
        figures = planning_figures(
            demo_city, today=TODAY, start=start, months=months, take_up=take_up, what_if=tried
        )
    reads = [q["sql"] for q in statements.captured_queries]
    sites = Site.objects.filter(municipality=demo_city, is_active=True).count()
    assert sites > 1  # the control: the demo city has several sites in service
    for table in ("offices_openingsession", "offices_closure", "offices_specialopening"):
        assert sum(f'FROM "{table}"' in sql for sql in reads) == 1, (table, reads)
    for table in ("offices_terminal", "offices_counter"):  # the active ones counted at once
        assert sum(f'FROM "{table}"' in sql for sql in reads) == 1, (table, reads)
    assert sum('FROM "forecasts_planningpolicy"' in sql for sql in reads) == 1, reads
    # the register's newest snapshots read once for every figure (the counter work, the two
    # forecasts' cubes and the holding view each asked for them: 4 reads)
    assert sum('FROM "forecasts_registersnapshot"' in sql for sql in reads) == 1, reads
    # the backlog's free seats: the slots of all the sites in one statement (was one a site),
    # its three card counts in one; the card pick-up taken from the sites' procedures (the
    # hours and the backlog each read it: 4 reads of procedures, now the sites' and the
    # counter needs' own)
    assert sum('FROM "reservations_slot"' in sql for sql in reads) == 1, reads
    assert sum('FROM "issuance_cardrecord"' in sql for sql in reads) == 1, reads
    assert sum('FROM "offices_procedure"' in sql for sql in reads) == 2, reads
    # all told (the cubes' counts aside: read only when the process keeps no such cube)
    uncached = [sql for sql in reads if 'FROM "forecasts_registerexpirycount"' not in sql]
    assert len(uncached) == 15, uncached  # was 25
    plans = capacity_plans(
        demo_city,
        start=start,
        months=months,
        take_up=take_up,
        variants=[(None, False), (None, True), (tried, False)],
    )
    assert figures.tried is not None
    for shown, alone in zip((figures.plan, figures.tried), (plans[0], plans[2]), strict=True):
        assert repr(shown) == repr(alone)
    assert repr(figures.backlog) == repr(backlog_view(demo_city, today=TODAY))
    needs = counter_needs(demo_city, start=start, months=months, take_up=take_up)
    assert figures.counter_needs is not None
    assert repr(figures.counter_needs) == repr(needs)


@pytest.mark.parametrize(
    "path",
    [
        "/staff/planning/",
        "/staff/planning/?months=12&take_up=90&temporary_counters=1&temporary_from=2026-12-07"
        "&temporary_weeks=4&temporary_hours_per_week=20",
        "/staff/planning/staffing/",
        "/staff/planning/staffing/claim.csv",
    ],
)
def test_the_planning_pages_read_the_aggregates_never_the_register_rows(
    demo_city: Municipality, path: str
) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from madoguchi.forecasts.models import RegisterRecord

    call_command("solve_staffing", stdout=io.StringIO())
    client = _client("demo-manager")
    assert RegisterRecord.objects.filter(municipality=demo_city).exists()
    table = RegisterRecord._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    assert queries.captured_queries  # the control: the page's own queries are seen
    assert not [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_planned_slots_of_one_procedure_and_skipped_days_are_those_of_the_full_plan(
    demo_city: Municipality,
) -> None:
    from madoguchi.offices.calendar import SiteCalendar
    from madoguchi.offices.selectors import offered_procedures
    from madoguchi.reservations.slots import planned_slots

    first, last = TODAY, TODAY + dt.timedelta(days=27)
    skip = {TODAY + dt.timedelta(days=d) for d in (1, 2, 9)}
    compared = 0
    for site in Site.objects.filter(municipality=demo_city, is_active=True):
        calendar, procedures = SiteCalendar.load(site), offered_procedures(site)
        options = {"terminals": site.terminals.count(), "walkin_share_percent": 30}
        full = planned_slots(calendar, procedures, first, last, **options)
        for procedure in procedures:
            part = planned_slots(
                calendar, procedures, first, last, only=procedure.pk, skip=skip, **options
            )
            assert part == [
                slot
                for slot in full
                if slot.procedure_id == procedure.pk and slot.starts_at.date() not in skip
            ]
            compared += len(part)
    assert compared > 100


OPTION_SWITCHES = {
    "evening": "allow_evenings",
    "saturday": "allow_saturdays",
    "sunday": "allow_sundays",
    "temporary": "allow_temporary_counters",
}


def _only(demo_city: Municipality, kind: str) -> None:
    """A policy that lets the planner propose `kind` and nothing else, and one candidate
    temporary counter (proposed only when temporary counters are allowed)."""
    PlanningPolicy.objects.create(
        municipality=demo_city, **{switch: name == kind for name, switch in OPTION_SWITCHES.items()}
    )
    TemporaryCounterOption.objects.create(
        municipality=demo_city,
        name="デモ公民館 臨時窓口",
        opens_on=TODAY + dt.timedelta(days=1),
        closes_on=TODAY + dt.timedelta(days=120),
        weekdays=[0, 1, 2, 3, 4],
        starts_at=dt.time(9, 0),
        ends_at=dt.time(17, 0),
        counters=2,
        terminals=2,
        setup_cost_yen=500_000,
        monthly_cost_yen=300_000,
    )


def test_a_temporary_counter_outside_the_policy_or_already_open_is_not_proposed(
    demo_city: Municipality,
) -> None:
    _only(demo_city, "evening")
    assert backlog_view(demo_city, today=TODAY).temporary == []
    PlanningPolicy.objects.filter(municipality=demo_city).update(allow_temporary_counters=True)
    assert [t.name for t in backlog_view(demo_city, today=TODAY).temporary] == [
        "デモ公民館 臨時窓口"
    ]
    # the demo's own temporary counter is open already (its candidate names its site)
    assert TemporaryCounterOption.objects.filter(
        municipality=demo_city, site__isnull=False
    ).exists()


def test_post_office_consignment_is_explained_not_proposed(demo_city: Municipality) -> None:
    PlanningPolicy.objects.create(municipality=demo_city, allow_post_office=True)
    _notified_cards(demo_city, 1160)
    regenerate_slots(first=TODAY, last=TODAY + dt.timedelta(days=83), actor=Actor.system("test"))
    page = _client("demo-manager").get("/staff/planning/").content.decode()
    assert "郵便局への委託は電子証明書の更新と暗証番号の再設定だけを引き受けます" in page
