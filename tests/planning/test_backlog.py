"""Backlog projection and the openings it proposes."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from madoguchi.planning.backlog import (
    BacklogInput,
    OpeningOption,
    SiteSupply,
    TemporarySite,
    project_backlog,
    propose_openings,
)


def _one_site(arrivals: list[float], seats: list[float], **kwargs: float) -> BacklogInput:
    return BacklogInput(
        arrivals=arrivals,
        sites=[SiteSupply(site_id=1, name="本庁舎", weekly_seats=seats, demand_share=1.0)],
        notice_delay_weeks=0,
        **kwargs,
    )


def test_enough_seats_every_week_means_booking_within_the_week() -> None:
    projection = project_backlog(_one_site([100] * 6, [100] * 6))
    assert np.all(projection.lead_days <= 3.5)
    assert projection.unserved_at_end[0] == 0


def test_a_shortfall_grows_the_lead_time_week_after_week() -> None:
    projection = project_backlog(_one_site([120] * 8, [100] * 8))
    lead = projection.lead_days[0]
    assert all(later >= earlier for earlier, later in pairwise(lead))
    # 20 extra requests a week pile up: by week 5 the backlog (100) is a full week of seats.
    assert lead[5] > 7
    assert projection.unserved_at_end[0] == pytest.approx(160)


def test_unused_seats_do_not_carry_over_to_later_weeks() -> None:
    # Week 0 has 100 idle seats; they cannot serve week 1's requests.
    projection = project_backlog(_one_site([0, 200, 0], [100, 100, 100]))
    assert projection.lead_days[0][1] == pytest.approx((2 - 1 + 1.0) * 7 - 3.5)


def test_requests_beyond_the_horizon_have_no_lead_time() -> None:
    projection = project_backlog(_one_site([0, 0, 500], [10, 10, 10]))
    assert math.isinf(projection.lead_days[0][2])


def test_notices_in_hand_book_in_the_first_week_and_arrivals_after_the_notice_delay() -> None:
    data = BacklogInput(
        arrivals=[50, 0, 0],
        sites=[SiteSupply(1, "A", [1000, 1000, 1000], 1.0)],
        notices_in_hand=30,
        notice_delay_weeks=1,
        take_up=0.8,
    )
    projection = project_backlog(data)
    assert projection.demand[0].tolist() == pytest.approx([24, 40, 0])


def test_demand_is_split_by_share_between_the_sites_open_that_week_or_the_next() -> None:
    data = BacklogInput(
        arrivals=[100] * 5,
        sites=[
            SiteSupply(1, "A", [70, 70, 70, 70, 0], 0.6),
            SiteSupply(2, "B (opens in week 2)", [0, 0, 30, 30, 0], 0.4),
        ],
        notice_delay_weeks=0,
    )
    projection = project_backlog(data)
    # week 0: B has no seat that week or the next, so A takes all; from week 1 on, by share;
    # a week with no seat at any site in it or the next splits by the shares as given
    assert projection.demand[:, 0].tolist() == pytest.approx([100, 0])
    assert projection.demand[:, 1].tolist() == pytest.approx([60, 40])
    assert projection.demand[:, 3].tolist() == pytest.approx([60, 40])
    assert projection.demand[:, 4].tolist() == pytest.approx([60, 40])
    one_week = project_backlog(replace(data, split_weeks=1))
    assert one_week.demand[:, 1].tolist() == pytest.approx([100, 0])
    # a site open every week keeps its share every week, as before
    steady = project_backlog(
        BacklogInput(
            arrivals=[100, 100],
            sites=[SiteSupply(1, "A", [70, 70], 0.7), SiteSupply(2, "B", [10, 10], 0.3)],
            notice_delay_weeks=0,
        )
    )
    assert steady.demand[:, 0].tolist() == pytest.approx([70, 30])
    assert steady.lead_days[0].max() <= 3.5 and steady.lead_days[1].max() > 7


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="shares"):
        BacklogInput(arrivals=[1], sites=[SiteSupply(1, "A", [1], 0.5)])
    with pytest.raises(ValueError, match="split_weeks"):
        BacklogInput(arrivals=[1], sites=[SiteSupply(1, "A", [1], 1.0)], split_weeks=0)
    with pytest.raises(ValueError, match="weeks of seats"):
        BacklogInput(arrivals=[1, 2], sites=[SiteSupply(1, "A", [1], 1.0)])


def test_proposals_bring_every_week_back_under_the_target() -> None:
    data = _one_site([130] * 10, [100] * 10)
    saturday = OpeningOption(
        site_id=1, session_kind="weekend", seats=27, cost=3.0, label="土曜午前"
    )
    evening = OpeningOption(site_id=1, session_kind="evening", seats=12, cost=1.0, max_per_week=2)
    result = propose_openings(data, [saturday, evening], target_days=14)
    assert result.before.first_breach(14) is not None
    assert result.resolved
    assert result.after.first_breach(14) is None
    assert result.proposals
    # Evenings are cheaper per seat (1/12 < 3/27), so they are used first and up to their limit.
    evening_weeks = [p for p in result.proposals if p.option is evening]
    assert evening_weeks and all(p.sessions <= 2 for p in evening_weeks)
    assert all(p.week >= 1 for p in result.proposals)  # never this week: staff need notice


def test_no_proposal_when_nothing_is_wrong() -> None:
    result = propose_openings(_one_site([50] * 4, [100] * 4), [OpeningOption(1, "weekend", 20, 1)])
    assert result.resolved and result.proposals == ()


def test_a_site_without_options_is_reported_unresolved() -> None:
    result = propose_openings(_one_site([300] * 6, [100] * 6), [], target_days=14)
    assert not result.resolved
    assert result.unresolved_site_ids == (1,)


def test_exact_session_seats_are_what_the_proposals_add() -> None:
    data = _one_site([130] * 6, [100] * 6)
    # week w: the first session adds 10 + w seats, the second 3 (the caller's slot plan)
    exact = tuple((10.0 + w, 3.0) for w in range(6))
    option = OpeningOption(1, "evening", seats=11, cost=1.0, max_per_week=2, session_seats=exact)
    result = propose_openings(data, [option], target_days=14)
    assert result.proposals
    for proposal in result.proposals:
        assert proposal.seats == sum(exact[proposal.week][: proposal.sessions])
        assert proposal.sessions <= 2
    added = result.after.seats.sum() - result.before.seats.sum()
    assert added == pytest.approx(result.seats)


def test_a_week_without_a_free_day_takes_no_session() -> None:
    data = _one_site([130] * 4, [100] * 4)
    exact = ((), (), (20.0,), ())  # only week 2 has a free day
    option = OpeningOption(1, "weekend", seats=20, cost=1.0, session_seats=exact)
    result = propose_openings(data, [option], target_days=14)
    assert {p.week for p in result.proposals} <= {2}


def test_an_unresolved_site_gets_the_weekly_seats_it_still_needs() -> None:
    data = _one_site([300] * 6, [100] * 6)
    result = propose_openings(data, [], target_days=14)
    needed = result.shortfall_seats_per_week[1]
    assert math.isfinite(needed) and needed > 0

    def late_with(extra: float) -> bool:
        seats = [100.0] + [100.0 + extra] * 5
        lead = project_backlog(_one_site([300] * 6, seats)).lead_days[0]
        return bool(np.any(lead > 14))

    assert not late_with(needed)
    assert late_with(needed - 1)


def test_a_temporary_counter_is_opened_when_sessions_cannot_keep_the_target() -> None:
    data = _one_site([160] * 8, [100] * 8)
    evening = OpeningOption(1, "evening", seats=10, cost=1.0, max_per_week=2)
    assert not propose_openings(data, [evening], target_days=14).resolved
    station = TemporarySite(site_id=-7, name="駅前", weekly_seats=[60.0] * 8, cost=500.0)
    result = propose_openings(data, [evening], temporary=[station], target_days=14)
    assert result.opened == (station,)
    assert result.resolved and result.after.first_breach(14) is None
    assert result.after.site_ids == (1, -7)
    assert result.after.seats[1].tolist() == [60.0] * 8
    # the temporary counter takes its seats' share of the demand (against the seats before)
    assert result.after.demand[1].sum() == pytest.approx(
        result.after.demand.sum() * 480 / (800 + 480)
    )
    assert result.seats == pytest.approx(sum(p.seats for p in result.proposals) + 480)
    assert result.cost == pytest.approx(sum(p.cost for p in result.proposals) + 500)


def test_the_cheapest_temporary_counter_that_helps_is_opened_and_no_other() -> None:
    data = _one_site([160] * 8, [100] * 8)
    dear = TemporarySite(-1, "ホール", [80.0] * 8, cost=900.0)
    cheap = TemporarySite(-2, "駅前", [80.0] * 8, cost=400.0)
    result = propose_openings(data, [], temporary=[dear, cheap], target_days=14)
    assert result.opened == (cheap,)
    assert result.resolved


def test_a_temporary_counter_that_does_not_help_is_not_opened() -> None:
    data = _one_site([160] * 8, [100] * 8)
    # too small to matter: the main office stays late and the kiosk would be late too
    kiosk = TemporarySite(-3, "出張所", [1.0] * 8, cost=10.0)
    result = propose_openings(data, [], temporary=[kiosk], target_days=14)
    assert result.opened == ()
    assert not result.resolved and result.unresolved_site_ids == (1,)


def test_a_temporary_counter_opening_late_in_the_horizon_is_kept_when_it_cuts_the_late_weeks() -> (
    None
):
    # the main office falls behind from week 6 on; the station counter opens in week 8 only
    data = _one_site([100] * 6 + [140] * 6, [110] * 12)
    late = TemporarySite(-9, "駅前（第9週から）", [0.0] * 8 + [60.0] * 4, cost=300.0)
    without = propose_openings(data, [], target_days=7)
    assert not without.resolved
    result = propose_openings(data, [], temporary=[late], target_days=7)
    # a 12-week share would give it requests from week 0 it cannot serve until week 8
    assert result.opened == (late,)
    assert result.after.demand[1][:7].sum() == 0
    before, after = result.before, result.after
    assert (before.lead_days[0][8:] > 7).all() and (after.lead_days[0][8:] <= 7).all()
    assert after.unserved_at_end.sum() < before.unserved_at_end.sum()
