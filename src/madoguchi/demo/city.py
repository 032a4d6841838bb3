"""The demo city: a realistic, clearly synthetic municipality (デモ市) to try madoguchi on.

Deterministic by seed and idempotent: loading twice leaves the same rows. Dates are laid out
relative to `today`, so the calendar always shows the coming weeks. Every person in it is
fictitious (see madoguchi.planning.synthetic).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from django.db import transaction

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.dates import monday_of, month_start
from madoguchi.demo.names import counter_translations, translations
from madoguchi.demo.pipeline import PREFIX, load_demo_pipeline
from madoguchi.demo.today import SiteDay, load_demo_day
from madoguchi.forecasts.models import TemporaryCounterOption, policy_for
from madoguchi.forecasts.register_import import import_register
from madoguchi.forecasts.report import TARGET_LEAD_DAYS
from madoguchi.forecasts.selectors import (
    EPOCH,
    backlog_view,
    capacity_plan,
    municipality_forecast,
    workload_parameters,
)
from madoguchi.issuance.services import store_application_counts
from madoguchi.offices.models import (
    Closure,
    ClosureKind,
    Counter,
    Municipality,
    OpeningSession,
    Procedure,
    ProcedureCode,
    SessionKind,
    Site,
    SiteKind,
    SpecialOpening,
    Terminal,
)
from madoguchi.planning.arrivals import DEFAULT_LAG_WEIGHTS
from madoguchi.planning.backlog import project_backlog
from madoguchi.planning.demand import DemandOptions
from madoguchi.planning.rules import NO_DATE
from madoguchi.planning.synthetic import generate_synthetic_register
from madoguchi.planning.workload import card_applications
from madoguchi.reservations.slots import regenerate_slots
from madoguchi.staff.models import Role, StaffUser
from madoguchi.staff.second_factor import give_demo_second_factor

DEMO_MUNICIPALITY_CODE = "999997"  # 99xxx is no real municipality; check digit valid
DEMO_PASSWORD = "madoguchi-demo"  # noqa: S105 — the published password of the synthetic demo only
DEMO_STAFF = (
    ("manager", Role.MANAGER, "管理", "花子", True),
    ("official", Role.OFFICIAL, "窓口", "太郎", False),
    ("contractor", Role.CONTRACTOR, "委託", "次郎", False),
    # the roll-up's statistics staff: the prefectural / national roll-up only
    ("rollup", Role.ROLLUP, "集計", "三郎", False),
)
"""Each demo city's staff: `<staff_prefix>-manager`, `-official`, `-contractor`, `-rollup`."""

OUTAGE_REASON = "J-LISシステム計画停止（デモ）"

_ALL_BUT_POST = [k for k in SiteKind.values if k != SiteKind.POST_OFFICE]

PROCEDURES = (
    {
        "code": ProcedureCode.CARD_PICKUP,
        "name": "マイナンバーカードの受け取り",
        "duration_minutes": 20,
        "needs_terminal": True,
        "allowed_site_kinds": _ALL_BUT_POST,
        "proxy_allowed": True,
        "documents": "交付通知書、本人確認書類（写真付き1点、または写真なし2点）、"
        "今お持ちのマイナンバーカード（住民基本台帳カード・通知カード）",
        "proxy_documents": "委任欄に記入した交付通知書、代理の理由を証明する書類、"
        "ご本人の本人確認書類、代理人の本人確認書類、今お持ちのカード",
        "sort_order": 1,
    },
    {
        "code": ProcedureCode.CERT_RENEWAL,
        "name": "電子証明書の更新",
        "duration_minutes": 10,
        "needs_terminal": True,
        "allowed_site_kinds": [],
        "proxy_allowed": True,
        "documents": "マイナンバーカード、暗証番号（署名用・利用者証明用）",
        "proxy_documents": "ご本人のマイナンバーカード、J-LISから届いた照会書（封をしたもの）、"
        "代理人の本人確認書類。照会書がない場合は2回の来庁が必要です。",
        "sort_order": 2,
    },
    {
        "code": ProcedureCode.CARD_APPLICATION,
        "name": "マイナンバーカードの申請（窓口で申請）",
        "duration_minutes": 15,
        "needs_terminal": False,
        "allowed_site_kinds": [],
        "proxy_allowed": False,
        "documents": "本人確認書類、今お持ちのカード、顔写真（窓口で撮影することもできます）",
        "proxy_documents": "",
        "sort_order": 3,
    },
    {
        "code": ProcedureCode.PIN_RESET,
        "name": "暗証番号の再設定",
        "duration_minutes": 10,
        "needs_terminal": True,
        "allowed_site_kinds": [],
        "proxy_allowed": False,
        "documents": "マイナンバーカード、本人確認書類",
        "proxy_documents": "",
        "sort_order": 4,
    },
)


@dataclass(frozen=True)
class DemoCity:
    """One fictitious municipality of the demo: `madoguchi demo --municipalities N` loads the
    first N of `DEMO_CITIES` into one deployment, each with its own sites, staff, register,
    cards and today's visitors. A city is data plus the function that lays out its sites."""

    code: str
    name: str
    """Its name in Japanese (in every other language: `demo.names`)."""
    place: str
    """The place name its addresses and holidays start with."""
    staff_prefix: str
    card_prefix: str
    """14 digits every demo card's application id starts with (a 9-digit serial follows)."""
    resident_share: float
    """Its register's size as a share of `--residents`."""
    local_holiday: tuple[str, dt.date]
    build_sites: Callable[[Municipality, dict[str, Procedure], dt.date], SiteSet]
    build_temporary: (
        Callable[[Municipality, dict[str, Procedure], tuple[dt.date, dt.date]], Site] | None
    ) = None
    """Its temporary counter, given the dates `temporary_counter_window` derives (staffed too)."""
    standby_name: str | None = None
    """The name of its standby temporary counter (`_standby_counter`: a candidate the backlog
    proposals may open), laid out when its backlog projection passes the target."""

    def username(self, role: str) -> str:
        return f"{self.staff_prefix}-{role}"


@dataclass(frozen=True)
class SiteSet:
    """The sites a demo city's layout created: `main` gets the holiday opening, `staffed` are
    the sites its officials and contractors work at."""

    main: Site
    staffed: tuple[Site, ...]


@dataclass(frozen=True)
class DemoSummary:
    municipality: Municipality
    sites: int
    residents: int
    staff_usernames: tuple[str, ...]
    today: tuple[SiteDay, ...] = ()
    city: DemoCity | None = None


def _weekly(
    site: Site, weekdays: range | tuple[int, ...], kind: str, start: str, end: str, counters: int
) -> None:
    for weekday in weekdays:
        OpeningSession.objects.update_or_create(
            site=site,
            weekday=weekday,
            starts_at_time=dt.time.fromisoformat(start),
            defaults={
                "kind": kind,
                "ends_at_time": dt.time.fromisoformat(end),
                "counters_open": counters,
            },
        )


def _site(
    municipality: Municipality,
    *,
    name: str,
    kind: str,
    address: str,
    postal_code: str,
    access_notes: str,
    counters: int,
    terminals: int,
    procedures: list[Procedure],
    open_from: dt.date | None = None,
    open_until: dt.date | None = None,
) -> Site:
    site, _ = Site.objects.update_or_create(
        municipality=municipality,
        name=name,
        defaults={
            "kind": kind,
            "address": address,
            "postal_code": postal_code,
            "access_notes": access_notes,
            "open_from": open_from,
            "open_until": open_until,
            "translations": translations(name=name, address=address, access_notes=access_notes),
        },
    )
    site.procedures.set(procedures)
    for number in range(1, counters + 1):
        Counter.objects.update_or_create(
            site=site,
            name=f"{number}番窓口",
            defaults={"translations": counter_translations(number)},
        )
    for number in range(1, terminals + 1):
        Terminal.objects.get_or_create(site=site, name=f"端末{number}")
    return site


def _next_weekday(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _demo_city_sites(
    municipality: Municipality, procedures: dict[str, Procedure], today: dt.date
) -> SiteSet:
    """デモ市: a main office, two branches, a post office — sized for the default 100,000
    residents so that its regular hours fall short in the renewal wave's peak months (one card
    terminal at the main office; the branches hand over cards on two days a week; the post office
    renews certificates twice a week). The temporary counter that covers the peak is
    `_demo_city_temporary`, laid out once the register says when the peak comes."""
    everything = list(procedures.values())
    main = _site(
        municipality,
        name="デモ市役所 本庁舎",
        kind=SiteKind.MAIN_OFFICE,
        address="デモ市中央一丁目1番1号 本庁舎1階 市民課",
        postal_code="123-4501",
        access_notes="デモ駅北口から徒歩8分。駐車場あり（2時間無料）。",
        counters=4,
        terminals=1,
        procedures=everything,
    )
    _weekly(main, range(0, 5), SessionKind.WEEKDAY, "08:30", "17:15", 4)
    _weekly(main, (3,), SessionKind.EVENING, "17:15", "19:00", 1)

    for name, address, postal, notes, days, hours in (
        (
            "デモ市 北支所",
            "デモ市北町二丁目3番4号",
            "123-4601",
            "北町バス停すぐ。",
            (0, 2),
            ("09:00", "12:00"),
        ),
        (
            "デモ市 南支所",
            "デモ市南台五丁目6番7号",
            "123-4701",
            "南台駅から徒歩5分。",
            (1, 3),
            ("09:00", "16:00"),
        ),
    ):
        branch = _site(
            municipality,
            name=name,
            kind=SiteKind.BRANCH_OFFICE,
            address=address,
            postal_code=postal,
            access_notes=notes,
            counters=1,
            terminals=1,
            procedures=everything,
        )
        _weekly(branch, days, SessionKind.WEEKDAY, *hours, 1)

    post = _site(
        municipality,
        name="デモ中央郵便局",
        kind=SiteKind.POST_OFFICE,
        address="デモ市中央三丁目2番1号",
        postal_code="123-4502",
        access_notes="郵便窓口の隣の専用カウンターです。カードの受け取りはできません。",
        counters=1,
        terminals=1,
        procedures=[procedures[ProcedureCode.CERT_RENEWAL], procedures[ProcedureCode.PIN_RESET]],
    )
    _weekly(post, (1, 4), SessionKind.WEEKDAY, "09:00", "16:00", 1)

    return SiteSet(main=main, staffed=(main,))


def _demo_city_temporary(
    municipality: Municipality, procedures: dict[str, Procedure], window: tuple[dt.date, dt.date]
) -> Site:
    """デモ市's temporary counter by the station: weekday evenings and weekends, open over
    `window` (`temporary_counter_window`: the months its regular hours fall short)."""
    opens_on, closes_on = window
    temporary = _site(
        municipality,
        name="デモ駅前 臨時窓口",
        kind=SiteKind.TEMPORARY,
        address="デモ市駅前二丁目8番 デモ駅前ビル2階",
        postal_code="123-4801",
        access_notes="デモ駅南口直結。平日夜間と土日に開設します。",
        counters=3,
        terminals=3,
        procedures=[procedures[ProcedureCode.CARD_PICKUP], procedures[ProcedureCode.CERT_RENEWAL]],
        open_from=opens_on,
        open_until=closes_on,
    )
    _weekly(temporary, range(0, 5), SessionKind.EVENING, "16:00", "19:30", 2)
    _weekly(temporary, (5, 6), SessionKind.WEEKEND, "10:00", "17:00", 3)
    _keep_as_option(
        temporary,
        window,
        weekdays=[0, 1, 2, 3, 4, 5, 6],
        hours=(dt.time(16, 0), dt.time(19, 30)),
        counters=3,
        costs_yen=(800_000, 450_000),
    )
    return temporary


def _keep_as_option(
    temporary: Site,
    window: tuple[dt.date, dt.date],
    *,
    weekdays: list[int],
    hours: tuple[dt.time, dt.time],
    counters: int,
    costs_yen: tuple[int, int],
) -> None:
    """Record an opened demo temporary counter as its `TemporaryCounterOption` (the plan and
    the claim cost it from there): open over `window`, as many terminals as counters,
    `costs_yen` = (set-up, monthly)."""
    TemporaryCounterOption.objects.update_or_create(
        municipality=temporary.municipality,
        name=temporary.name,
        defaults={
            "translations": translations(name=temporary.name),
            "opens_on": window[0],
            "closes_on": window[1],
            "weekdays": weekdays,
            "starts_at": hours[0],
            "ends_at": hours[1],
            "counters": counters,
            "terminals": counters,
            "setup_cost_yen": costs_yen[0],
            "monthly_cost_yen": costs_yen[1],
            "site": temporary,
        },
    )


def _standby_counter(
    municipality: Municipality, name: str, window: tuple[dt.date, dt.date], today: dt.date
) -> None:
    """A demo city's standby temporary counter for the weeks before its temporary counter opens:
    a candidate (`TemporaryCounterOption` without a site) the backlog proposals open when the
    regular card pick-up seats cannot keep the lead time within the target — one counter,
    weekdays 9:00–16:00, from next Monday to the day before `window` starts; named in every
    language, so the site it opens is too."""
    opens_on = monday_of(today) + dt.timedelta(weeks=1)
    closes_on = max(opens_on, window[0] - dt.timedelta(days=1))
    TemporaryCounterOption.objects.update_or_create(
        municipality=municipality,
        name=name,
        defaults={
            "translations": translations(name=name),
            "opens_on": opens_on,
            "closes_on": closes_on,
            "weekdays": [0, 1, 2, 3, 4],
            "starts_at": dt.time(9, 0),
            "ends_at": dt.time(16, 0),
            "counters": 1,
            "terminals": 1,
            "setup_cost_yen": 300_000,
            "monthly_cost_yen": 200_000,
        },
    )


def backlog_breaches_target(municipality: Municipality, *, today: dt.date) -> bool:
    """Whether the backlog projection (cards, application counts and slots as loaded) passes
    the report's lead-time target in some week of its horizon."""
    projection = project_backlog(backlog_view(municipality, today=today).data)
    return projection.first_breach(TARGET_LEAD_DAYS) is not None


def backlog_hint(municipality: Municipality, *, manager: str, today: dt.date) -> str:
    """The line `madoguchi demo` prints about the backlog warning: where to see it, and whether
    it speaks."""
    where = f"  計画の画面（/staff/planning/、{manager}）: カード受け取りの予約の待ち日数"
    if backlog_breaches_target(municipality, today=today):
        return (
            f"{where}が目標（{TARGET_LEAD_DAYS}日）を超える週があります。"
            "早期警告と臨時開庁・臨時窓口の案を見て、適用できます。"
        )
    return f"{where}は今後12週間、目標（{TARGET_LEAD_DAYS}日）以内の見込みです。"


APPLICATION_WEEKS = 5
"""The weeks of application counts the demo stores: those before today's week whose cards reach
the backlog's horizon through the production lag (most within 3–6 weeks)."""

APPLIED_AHEAD_WEEKS = round(sum(lag * share for lag, share in DEFAULT_LAG_WEIGHTS.items()))
"""Residents apply for a renewed card this many weeks before their card expires — the mean
production lag (4.7 weeks), so the new card arrives about when the old one ends."""


def forecast_application_counts(
    municipality: Municipality, *, today: dt.date
) -> dict[dt.date, int]:
    """The weekly card applications the municipality's own forecast implies for the
    `APPLICATION_WEEKS` weeks before today's: the card renewals (at the policy's take-up) of the
    cards expiring `APPLIED_AHEAD_WEEKS` later, plus new cards at the policy's rate
    (`planning.workload.card_applications`, the staffing plan's sum)."""
    policy = policy_for(municipality.pk)
    monday = monday_of(today)
    first = monday - dt.timedelta(weeks=APPLICATION_WEEKS)
    start = first.replace(day=1)
    forecast = municipality_forecast(
        municipality,
        start=start,
        months=4,
        by="week",
        options=DemandOptions(take_up=policy.take_up),
    )
    renewals = {
        EPOCH + dt.timedelta(days=int(day)): float(count)
        for day, count in zip(forecast.period_starts, forecast.card_renewals, strict=True)
    }
    weeks = [first + dt.timedelta(weeks=w) for w in range(APPLICATION_WEEKS)]
    expiring = [renewals.get(w + dt.timedelta(weeks=APPLIED_AHEAD_WEEKS), 0.0) for w in weeks]
    applications = card_applications(expiring, workload_parameters(municipality, policy))
    return {week: round(float(n)) for week, n in zip(weeks, applications, strict=True)}


WINDOW_MONTHS = 24
"""How far ahead the demo looks for the months its regular hours fall short."""


def temporary_counter_window(
    municipality: Municipality, *, today: dt.date
) -> tuple[dt.date, dt.date]:
    """When the demo's temporary counter opens and closes, from the municipality's own forecast:
    the first to the last month of the next `WINDOW_MONTHS` in which the regular hours leave a
    backlog (`capacity_plan(regular_only=True)` at the policy's take-up); when they never do (a
    small register, or a date after the wave), the busiest month and one either side."""
    start = today.replace(day=1)
    plan = capacity_plan(
        municipality,
        start=start,
        months=WINDOW_MONTHS,
        take_up=policy_for(municipality.pk).take_up,
        regular_only=True,
    )
    short = [month for month in range(WINDOW_MONTHS) if plan.backlog_hours[month] > 0]
    if short:
        first, last = short[0], short[-1]
    else:
        peak = int(np.argmax(plan.demand_hours))
        first, last = max(0, peak - 1), min(WINDOW_MONTHS - 1, peak + 1)
    return month_start(start, first), month_start(start, last + 1) - dt.timedelta(days=1)


def _sample_town_sites(
    municipality: Municipality, procedures: dict[str, Procedure], today: dt.date
) -> SiteSet:
    """見本町: a small town (a quarter of `--residents`) sized for its wave the way デモ市 is: its
    town hall hands over cards and renews certificates at one terminal on Tuesdays and Thursdays
    (and Saturday mornings), its branch one morning a week — so its regular hours fall short in
    the wave's busy months until its temporary counter (`_sample_town_temporary`) is counted."""
    everything = list(procedures.values())
    hall = _site(
        municipality,
        name="見本町役場 住民課",
        kind=SiteKind.MAIN_OFFICE,
        address="見本町役場通り一丁目1番地 役場1階",
        postal_code="987-6501",
        access_notes="見本駅から町営バス「役場前」下車すぐ。駐車場あり。",
        counters=2,
        terminals=1,
        procedures=everything,
    )
    _weekly(hall, (1, 3), SessionKind.WEEKDAY, "08:30", "17:15", 1)
    _weekly(hall, (5,), SessionKind.WEEKEND, "09:00", "12:00", 1)
    branch = _site(
        municipality,
        name="見本町 東出張所",
        kind=SiteKind.BRANCH_OFFICE,
        address="見本町東浦三丁目2番",
        postal_code="987-6601",
        access_notes="東浦公民館の中です。",
        counters=1,
        terminals=1,
        procedures=[procedures[ProcedureCode.CARD_PICKUP], procedures[ProcedureCode.CERT_RENEWAL]],
    )
    _weekly(branch, (2,), SessionKind.WEEKDAY, "09:00", "12:00", 1)
    return SiteSet(main=hall, staffed=(hall, branch))


def _sample_town_temporary(
    municipality: Municipality, procedures: dict[str, Procedure], window: tuple[dt.date, dt.date]
) -> Site:
    """見本町's temporary counter at its health centre: Monday, Wednesday and Friday afternoons
    and Sunday mornings, open over `window` (`temporary_counter_window`)."""
    opens_on, closes_on = window
    temporary = _site(
        municipality,
        name="見本町 保健センター 臨時窓口",
        kind=SiteKind.TEMPORARY,
        address="見本町役場通り二丁目5番 保健センター1階",
        postal_code="987-6502",
        access_notes="役場の向かいです。月・水・金の午後と日曜の午前に開設します。",
        counters=1,
        terminals=1,
        procedures=[procedures[ProcedureCode.CARD_PICKUP], procedures[ProcedureCode.CERT_RENEWAL]],
        open_from=opens_on,
        open_until=closes_on,
    )
    _weekly(temporary, (0, 2, 4), SessionKind.WEEKDAY, "13:00", "17:00", 1)
    _weekly(temporary, (6,), SessionKind.WEEKEND, "09:00", "12:00", 1)
    _keep_as_option(
        temporary,
        window,
        weekdays=[0, 2, 4, 6],
        hours=(dt.time(13, 0), dt.time(17, 0)),
        counters=1,
        costs_yen=(200_000, 120_000),
    )
    return temporary


DEMO_CITIES: tuple[DemoCity, ...] = (
    DemoCity(
        code=DEMO_MUNICIPALITY_CODE,
        name="デモ市（架空）",
        place="デモ市",
        staff_prefix="demo",
        card_prefix=PREFIX,
        resident_share=1.0,
        local_holiday=("デモ市 市民の日", dt.date(2000, 6, 23)),
        build_sites=_demo_city_sites,
        build_temporary=_demo_city_temporary,
        standby_name="デモ市 北町公民館 臨時窓口",
    ),
    DemoCity(
        code="999989",  # 99998 + its check digit: no real municipality either
        name="見本町（架空）",
        place="見本町",
        staff_prefix="demo2",
        card_prefix="99998900000000",
        resident_share=0.25,
        local_holiday=("見本町 町民の日", dt.date(2000, 10, 1)),
        build_sites=_sample_town_sites,
        build_temporary=_sample_town_temporary,
        standby_name="見本町 中央公民館 臨時窓口",
    ),
)
"""The demo's municipalities, in the order `--municipalities N` takes them."""


@transaction.atomic
def build_demo_city(
    *, residents: int, seed: int, today: dt.date, city: DemoCity = DEMO_CITIES[0]
) -> DemoSummary:
    """Create or refresh one demo city; returns what it holds. Idempotent for equal arguments."""
    municipality, _ = Municipality.objects.update_or_create(
        code=city.code,
        defaults={
            "name": city.name,
            "translations": translations(name=city.name),
            "closes_sunday_after_third_saturday": True,
        },
    )
    procedures = {}
    for spec in PROCEDURES:
        defaults = {k: v for k, v in spec.items() if k != "code"}
        defaults["translations"] = translations(
            name=str(spec["name"]),
            documents=str(spec["documents"]),
            proxy_documents=str(spec["proxy_documents"]),
        )
        procedure, _ = Procedure.objects.update_or_create(code=spec["code"], defaults=defaults)
        procedures[procedure.code] = procedure
    layout = city.build_sites(municipality, procedures, today)
    main = layout.main

    Closure.objects.update_or_create(
        municipality=municipality,
        site=None,
        kind=ClosureKind.LOCAL_HOLIDAY,
        reason=city.local_holiday[0],
        defaults={
            "first_day": city.local_holiday[1],
            "recurs_yearly": True,
            "translations": translations(reason=city.local_holiday[0]),
        },
    )
    outage_day = _next_weekday(today + dt.timedelta(days=21), 2)
    Closure.objects.update_or_create(
        municipality=municipality,
        site=None,
        kind=ClosureKind.SYSTEM_OUTAGE,
        reason=OUTAGE_REASON,
        defaults={
            "first_day": outage_day,
            "recurs_yearly": False,
            "translations": translations(reason=OUTAGE_REASON),
        },
    )
    sunday = _next_weekday(today + dt.timedelta(days=14), 6)
    SpecialOpening.objects.update_or_create(
        site=main,
        reason="休日開庁（カード受け取り）",
        defaults={
            "day": sunday,
            "starts_at_time": dt.time(9, 0),
            "ends_at_time": dt.time(12, 0),
            "counters_open": 4,
        },
    )

    usernames = []
    at_sites = []
    for suffix, role, last, first, is_admin in DEMO_STAFF:
        username = city.username(suffix)
        user, created = StaffUser.objects.get_or_create(
            username=username,
            defaults={"last_name": last, "first_name": first, "role": role},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        user.municipality = municipality
        user.is_staff = is_admin
        user.is_superuser = is_admin
        user.save()
        if role in (Role.OFFICIAL, Role.CONTRACTOR):
            at_sites.append(user)
        give_demo_second_factor(user)  # its published secret: `madoguchi demo` prints it
        usernames.append(username)

    register_count = _load_register(
        municipality, residents=round(residents * city.resident_share), seed=seed, today=today
    )
    staffed = layout.staffed
    window = None
    if city.build_temporary is not None:
        # after the register: its forecast says when the regular hours fall short
        window = temporary_counter_window(municipality, today=today)
        staffed = (*staffed, city.build_temporary(municipality, procedures, window))
    # the weekly application counts a municipality stores from J-LIS's figures: here the ones
    # its own forecast implies, so the backlog's arrivals follow the wave (decision 0031)
    store_application_counts(
        municipality=municipality,
        counts=forecast_application_counts(municipality, today=today),
        actor=Actor.system("demo"),
        file_name="demo-applications.csv",
    )
    for user in at_sites:
        user.sites.set(staffed)
    regenerate_slots(  # bookable slots for the next 8 weeks (covers the 45-day window)
        first=today,
        last=today + dt.timedelta(weeks=8),
        actor=Actor.system("demo"),
        sites=municipality.sites.filter(is_active=True),
    )
    record_audit_event(
        actor=Actor.system("demo"),
        action="demo.load",
        subject_type="offices.Municipality",
        subject_id=municipality.pk,
        after={"residents": register_count, "seed": seed},
    )
    load_demo_pipeline(
        municipality=municipality,
        seed=seed,
        today=today,
        prefix=city.card_prefix,
        place=city.place,
        official=city.username("official"),
    )
    if (
        window is not None
        and city.standby_name is not None
        and backlog_breaches_target(municipality, today=today)
    ):
        # after the cards and slots: the backlog projection says whether seats fall short
        _standby_counter(municipality, city.standby_name, window, today)
    live = load_demo_day(municipality=municipality, seed=seed) if today == clock.today() else []
    return DemoSummary(
        municipality=municipality,
        sites=municipality.sites.count(),
        residents=register_count,
        staff_usernames=tuple(usernames),
        today=tuple(live),
        city=city,
    )


DEMO_AREAS = ("中央", "北町", "南台", "東浜", "西山")
"""The demo register's districts (fictitious), for holding rates by area."""


def demo_register_csv(*, residents: int, seed: int, today: dt.date) -> bytes:
    """The synthetic register as the CSV a municipality would import (with an `area` column).
    Written column by column (polars), not line by line in Python: 100,000 residents were
    0.4 s of a `madoguchi demo` build."""
    register = generate_synthetic_register(people=residents, seed=seed, as_of=today)
    index = np.arange(residents, dtype=np.int64)

    def dates(days: np.ndarray) -> pl.Series:  # the day numbers as dates, NO_DATE empty
        return (
            pl.Series(np.where(days == NO_DATE, 0, days))
            .cast(pl.Date)
            .set(pl.Series(days == NO_DATE), None)
        )

    frame = pl.DataFrame(
        {
            "person_id": pl.Series(index).cast(pl.String).str.zfill(7),
            "birth_date": dates(register.birth_day),
            "card_issued_on": dates(register.card_issued_day),
            "cert_issued_on": dates(register.cert_issued_day),
            "area": pl.Series(np.array(DEMO_AREAS)[(index * 7 + seed) % len(DEMO_AREAS)]),
        }
    ).with_columns(("D" + pl.lit(f"{seed:04d}") + "-" + pl.col("person_id")).alias("person_id"))
    return frame.write_csv(include_header=True, line_terminator="\n").encode()


def _load_register(municipality: Municipality, *, residents: int, seed: int, today: dt.date) -> int:
    """The synthetic register, through the same import a municipality uses (idempotent)."""
    data = demo_register_csv(residents=residents, seed=seed, today=today)
    report = import_register(
        io.BytesIO(data),
        file_name=f"demo-register-{seed}.csv",
        municipality=municipality,
        actor=Actor.system("demo"),
        taken_on=today,
    )
    if not report.accepted:
        raise RuntimeError("\n".join(report.lines()))
    return residents
