"""Applying the backlog's proposals on the demo city at the sizes its piles are worked out on
(`personas.ROOMY_SITES`): the seats created are the seats promised, the warning goes, and a
plan is applied only as the manager saw it.

The world is the roomy demo city (`DemoCity(roomy=True)`): its sites resized and their slots of
the backlog's twelve weeks regenerated once for all these tests, not in each.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.core.holidays import national_holiday_name
from madoguchi.core.models import AuditEvent
from madoguchi.forecasts.models import TemporaryCounterOption, policy_for
from madoguchi.forecasts.selectors import backlog_view
from madoguchi.offices.models import Municipality, Site, SiteKind, SpecialOpening
from madoguchi.planning.backlog import propose_openings
from tests import personas
from tests.forecasts.test_planning_pages import (
    OPTION_SWITCHES,
    TODAY,
    WARNING,
    _client,
    _notified_cards,
    _only,
    _pickup_seats,
    apply_shown_plan,
    shown_plan,
)

pytestmark = pytest.mark.django_db

DEMO_CITY = personas.DemoCity(residents=400, seed=3, roomy=True)
POLICY_READS_OF_AN_APPLY = 2


def test_applying_the_proposals_creates_the_seats_promised_and_the_warning_goes(
    demo_city: Municipality,
) -> None:
    _notified_cards(demo_city, 1160)  # a breach the allowed openings can absorb
    view = backlog_view(demo_city, today=TODAY)
    result = propose_openings(view.data, view.options, target_days=14)
    assert result.before.first_breach(14) is not None
    assert result.resolved and result.proposals
    promised = result.seats
    page = _client("demo-manager").get("/staff/planning/").content.decode()
    assert WARNING in page and "すべての窓口が目標に収まる見込みです" in page

    seats, openings = _pickup_seats(), SpecialOpening.objects.count()
    manager = _client("demo-manager")
    plan = shown_plan(manager)
    with CaptureQueriesContext(connection) as statements:
        response = manager.post("/staff/planning/apply/", {"plan": plan})
    assert response.status_code == 302
    # the planning policy read once for all the proposals (it was read again for each), and
    # once to work the plan out again
    policy_reads = [
        q["sql"]
        for q in statements.captured_queries
        if 'FROM "forecasts_planningpolicy"' in q["sql"]
    ]
    assert len(result.proposals) > 1  # the control: several proposals to apply
    assert len(policy_reads) == POLICY_READS_OF_AN_APPLY, policy_reads
    assert SpecialOpening.objects.count() - openings == sum(p.sessions for p in result.proposals)
    assert _pickup_seats() - seats == promised

    after = backlog_view(demo_city, today=TODAY)
    assert (
        propose_openings(after.data, after.options, target_days=14).before.first_breach(14) is None
    )
    page = _client("demo-manager").get("/staff/planning/").content.decode()
    assert WARNING not in page
    assert "どの窓口も目標（14日以内）に収まる見込みです" in page


@pytest.mark.parametrize("kind", list(OPTION_SWITCHES))
def test_each_allowed_option_alone_resolves_and_creates_exactly_the_seats_promised(
    demo_city: Municipality, kind: str
) -> None:
    _only(demo_city, kind)
    _notified_cards(demo_city, 1120)  # a breach one kind of opening alone can absorb
    view = backlog_view(demo_city, today=TODAY)
    result = propose_openings(view.data, view.options, temporary=view.temporary, target_days=14)
    assert result.before.first_breach(14) is not None
    assert result.resolved
    if kind == "temporary":
        assert [t.name for t in result.opened] == ["デモ公民館 臨時窓口"] and not result.proposals
    else:
        assert result.proposals and not result.opened
        assert {p.option.session_kind for p in result.proposals} == {kind}
    promised = result.seats
    page = _client("demo-manager").get("/staff/planning/").content.decode()
    assert WARNING in page and "すべての窓口が目標に収まる見込みです" in page

    seats, openings, sites = _pickup_seats(), SpecialOpening.objects.count(), Site.objects.count()
    assert apply_shown_plan(_client("demo-manager")).status_code == 302
    assert _pickup_seats() - seats == promised
    assert SpecialOpening.objects.count() - openings == sum(p.sessions for p in result.proposals)
    assert Site.objects.count() - sites == len(result.opened)
    if kind == "temporary":
        option = TemporaryCounterOption.objects.get(name="デモ公民館 臨時窓口")
        assert option.site is not None and option.site.kind == SiteKind.TEMPORARY
        assert AuditEvent.objects.filter(action="planning.temporary_counter.open").count() == 1
    if kind == "sunday":
        days = SpecialOpening.objects.filter(reason="滞留対策の臨時開庁").values_list(
            "day", flat=True
        )
        assert all(day.weekday() == 6 or national_holiday_name(day) for day in days)

    after = backlog_view(demo_city, today=TODAY)
    assert (
        propose_openings(
            after.data, after.options, temporary=after.temporary, target_days=14
        ).before.first_breach(14)
        is None
    )
    page = _client("demo-manager").get("/staff/planning/").content.decode()
    assert WARNING not in page
    assert "どの窓口も目標（14日以内）に収まる見込みです" in page


def _breached_demo(demo_city: Municipality) -> None:
    _notified_cards(demo_city, 1160)  # on the roomy city: a breach the openings can absorb


PLAN_CHANGED = "表示していた案から変わっています"


def test_a_plan_applied_already_is_not_applied_again_from_the_same_page(
    demo_city: Municipality,
) -> None:
    """Two managers on the same page (or one pressing twice): the second apply finds the plan
    changed and adds nothing — no openings or costs nobody saw."""
    _breached_demo(demo_city)
    first, second = _client("demo-manager"), _client("demo-manager")
    plan = shown_plan(first)
    assert shown_plan(second) == plan
    openings = SpecialOpening.objects.count()
    assert first.post("/staff/planning/apply/", {"plan": plan}).status_code == 302
    applied = SpecialOpening.objects.count()
    assert applied > openings
    seats, events = _pickup_seats(), AuditEvent.objects.count()
    response = second.post("/staff/planning/apply/", {"plan": plan}, follow=True)
    assert PLAN_CHANGED in response.content.decode()
    assert SpecialOpening.objects.count() == applied and _pickup_seats() == seats
    assert AuditEvent.objects.count() == events


def test_a_plan_whose_costs_were_edited_after_the_page_is_refused(
    demo_city: Municipality,
) -> None:
    _breached_demo(demo_city)
    client = _client("demo-manager")
    plan = shown_plan(client)
    policy = policy_for(demo_city.pk)  # the defaults, unsaved, when none was entered
    for rate in ("weekday", "evening", "saturday", "sunday"):
        setattr(policy, f"official_{rate}_yen", 9000)
    policy.save()
    openings, seats = SpecialOpening.objects.count(), _pickup_seats()
    response = client.post("/staff/planning/apply/", {"plan": plan}, follow=True)
    assert PLAN_CHANGED in response.content.decode()
    assert SpecialOpening.objects.count() == openings and _pickup_seats() == seats
    assert shown_plan(client) != plan  # the page now shows the plan at the new costs
    empty = client.post("/staff/planning/apply/", follow=True)  # no plan at all
    assert PLAN_CHANGED in empty.content.decode()
    assert SpecialOpening.objects.count() == openings
