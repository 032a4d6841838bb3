"""The demo's backlog warning speaks on first login: its arrivals follow its own forecast (the
weekly application counts that forecast implies, through the production lag), its regular card
pick-up seats cannot keep up, and applying the proposals — the standby temporary counter, with any
sessions — brings every site back within the 14-day target, which the page then shows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.conf import settings
from django.test import Client

from madoguchi.demo.city import (
    APPLICATION_WEEKS,
    APPLIED_AHEAD_WEEKS,
    backlog_hint,
    forecast_application_counts,
)
from madoguchi.forecasts.models import TemporaryCounterOption
from madoguchi.forecasts.selectors import backlog_view
from madoguchi.issuance.applications import stored_counts
from madoguchi.issuance.models import CardRecord
from madoguchi.offices.models import Municipality, ProcedureCode, SiteKind
from madoguchi.planning.backlog import project_backlog, propose_openings
from madoguchi.reservations.models import Slot
from madoguchi.staff.models import StaffUser
from tests import personas
from tests.conftest import login_staff
from tests.forecasts.test_planning_pages import apply_shown_plan
from tests.frozen_clock import DEMO_DAY
from tests.offices.factories import OTHER_LANGUAGES

pytestmark = pytest.mark.django_db

DEMO_CITY = personas.DemoCity(residents=100_000, seed=1)
"""The demo as `madoguchi demo` loads it (its default size and seed)."""

TARGET = 14
WARNING = "目標（14日以内）を超える週があります"
RESOLVES = "下の案を適用すると、すべての窓口が目標に収まる見込みです"
WITHIN = "どの窓口も目標（14日以内）に収まる見込みです"
APPLY = "この案を適用する"


def _page() -> str:
    client = Client()
    login_staff(client, StaffUser.objects.get(username="demo-manager"))
    return client.get("/staff/planning/").content.decode()


def _lead_cells(html: str) -> list[float]:
    """Every 待ち日数 cell of the page's weekly tables (inf where "—": beyond the horizon)."""
    section = html[html.index('id="backlog-heading"') : html.index("</details>")]
    values = []
    for row in section.split('<tr><th scope="row">')[1:]:
        cells = [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]
        lead = cells[2].split(" <strong>")[0].replace(",", "")
        values.append(np.inf if lead == "—" else float(lead))
    return values


def test_the_demo_stores_the_application_counts_its_forecast_implies(
    demo_city: Municipality,
) -> None:
    counts = stored_counts(demo_city.pk)
    assert counts == forecast_application_counts(demo_city, today=DEMO_DAY)
    assert len(counts) == APPLICATION_WEEKS
    monday = DEMO_DAY - dt.timedelta(days=DEMO_DAY.weekday())
    assert max(counts) == monday - dt.timedelta(weeks=1)
    assert APPLIED_AHEAD_WEEKS == 5  # the mean production lag, 4.7 weeks, rounded
    # the wave, not the sample pipeline: more applications a week than the demo's cards
    # delivered a week over the last four weeks
    recent = CardRecord.objects.filter(
        municipality=demo_city,
        delivered_on__gte=monday - dt.timedelta(weeks=4),
        delivered_on__lt=monday,
    ).count()
    assert min(counts[max(counts) - dt.timedelta(weeks=w)] for w in range(3)) > 2 * recent / 4


def test_a_manager_sees_the_warning_and_proposals_that_resolve_it_on_first_login(
    demo_city: Municipality,
) -> None:
    view = backlog_view(demo_city, today=DEMO_DAY)
    # the arrivals follow the counts: well above the recent deliveries' average in the first weeks
    assert min(view.data.arrivals[:4]) > 2 * view.expected_arrivals_per_week
    result = propose_openings(view.data, view.options, temporary=view.temporary, target_days=TARGET)
    assert result.before.first_breach(TARGET) is not None
    assert result.resolved and (result.proposals or result.opened)
    page = _page()
    assert WARNING in page and RESOLVES in page and APPLY in page
    # the page says where its arrivals come from
    assert view.weeks_from_counts > 0
    assert f"うち{view.weeks_from_counts}週は週ごとの申請件数から製造期間をへた見込み" in page
    assert max(_lead_cells(page)) > TARGET
    for opened in result.opened:
        assert opened.name in page
    # what `madoguchi demo` prints points the manager there
    hint = backlog_hint(demo_city, manager="demo-manager", today=DEMO_DAY)
    assert "/staff/planning/、demo-manager" in hint and "目標（14日）を超える週があります" in hint


def test_applying_the_demo_proposals_fixes_it(demo_city: Municipality) -> None:
    view = backlog_view(demo_city, today=DEMO_DAY)
    result = propose_openings(view.data, view.options, temporary=view.temporary, target_days=TARGET)
    assert result.resolved
    before_worst = float(np.max(result.before.lead_days))
    seats = sum(
        Slot.objects.filter(
            site__municipality=demo_city, procedure__code="card_pickup"
        ).values_list("capacity", flat=True)
    )
    client = Client()
    login_staff(client, StaffUser.objects.get(username="demo-manager"))
    assert apply_shown_plan(client).status_code == 302

    # the standby counter is open now, with the seats the proposal promised, named in every
    # language (its candidate's names carried over), so English pages show no Japanese name
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    booking = english.get(f"/book/{ProcedureCode.CARD_PICKUP}/").content.decode()
    assert result.opened
    for opened in result.opened:
        candidate = TemporaryCounterOption.objects.get(pk=-opened.site_id)
        assert candidate.site is not None and candidate.site.kind == SiteKind.TEMPORARY
        for code in OTHER_LANGUAGES:
            assert candidate.site.localized("name", code) == candidate.localized("name", code)
            assert candidate.site.localized("name", code) != candidate.name
        assert candidate.name not in booking
        assert candidate.site.localized("name", "en") in booking
    created = (
        sum(
            Slot.objects.filter(
                site__municipality=demo_city, procedure__code="card_pickup"
            ).values_list("capacity", flat=True)
        )
        - seats
    )
    assert created == pytest.approx(result.seats)

    after = project_backlog(backlog_view(demo_city, today=DEMO_DAY).data)
    assert after.first_breach(TARGET) is None
    page = _page()
    assert WARNING not in page and WITHIN in page
    shown = _lead_cells(page)
    assert max(shown) <= TARGET < before_worst
    assert APPLY not in page
