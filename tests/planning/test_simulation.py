"""The simulation engines: validated against Erlang C and Ciw, and the site rules they model."""

from __future__ import annotations

import dataclasses
import math
import statistics

import numpy as np
import pytest

from madoguchi.planning.queueing import erlang_c
from madoguchi.planning.simulation import (
    AppointmentPlan,
    Procedure,
    Session,
    SiteModel,
    fcfs_waits,
    simulate_continuous_site,
    simulate_mmc,
    simulate_site,
)

CARD = Procedure("card_pickup", 17, 0.4, needs_terminal=True)
CERT = Procedure("cert_renewal", 10, 0.3)
WEEKDAY = (Session(510, 720, 4), Session(780, 1035, 4))  # 8:30–12:00, 13:00–17:15


def _hourly(rate: float, first_hour: int = 8, last_hour: int = 17) -> tuple[float, ...]:
    return tuple(rate if first_hour <= h <= last_hour else 0.0 for h in range(24))


def _site(**changes: object) -> SiteModel:
    model = SiteModel(
        procedures=(CARD, CERT),
        sessions_by_day=(WEEKDAY,) * 10,
        walkin_arrivals_per_hour=_hourly(8.0),
        walkin_procedure_mix=(0.4, 0.6),
        appointments=AppointmentPlan(
            slot_minutes=30, bookings_per_slot=2, no_show_rate=0.1, procedure_mix=(1.0, 0.0)
        ),
        terminals=2,
    )
    return dataclasses.replace(model, **changes)


# ---- the bare kernel -------------------------------------------------------------------------


def test_fcfs_waits_on_a_hand_worked_example() -> None:
    # Two counters; arrivals at 0, 1, 2, 3 with services 5, 5, 1, 1.
    waits = fcfs_waits([0, 1, 2, 3], [5, 5, 1, 1], counters=2)
    assert waits.tolist() == [0, 0, 3, 3]


def test_stationary_mmc_mean_wait_is_erlang_c_within_3_percent_over_replications() -> None:
    # M/M/6 at 85% load (Erlang C 10.40 min). One 300k run has ~3.3% sd between seeds, so one
    # 200k run ~4%; the mean of 20 independent runs (4M customers) has a standard error near
    # 0.9%, which puts the 3% tolerance beyond 3 standard errors. The test measures that standard
    # error itself and fails if the tolerance stops being that wide, so it cannot silently
    # become a coin toss.
    exact = erlang_c(6, 20.4, 15).mean_wait_minutes
    means = [
        simulate_mmc(
            counters=6,
            arrivals_per_hour=20.4,
            service_time_minutes=15,
            customers=200_000,
            seed=seed,
        ).mean_wait_minutes
        for seed in range(20)
    ]
    average = statistics.fmean(means)
    standard_error = statistics.stdev(means) / math.sqrt(len(means))
    assert 3 * standard_error < 0.03 * exact
    assert abs(average - exact) < 0.03 * exact


def test_simulated_utilization_and_p90_match_theory() -> None:
    run = simulate_mmc(
        counters=6, arrivals_per_hour=20.4, service_time_minutes=15, customers=300_000, seed=7
    )
    assert run.utilization == pytest.approx(0.85, abs=0.01)
    theory = erlang_c(6, 20.4, 15).wait_quantile_minutes(0.9)
    assert run.p90_wait_minutes == pytest.approx(theory, rel=0.1)


def test_rich_loop_reproduces_the_bare_kernel_exactly() -> None:
    bare = simulate_mmc(
        counters=6, arrivals_per_hour=20.4, service_time_minutes=15, customers=50_000, seed=3
    )
    rich = simulate_continuous_site(
        counters=6,
        walkin_arrivals_per_hour=20.4,
        procedures=(Procedure("any", 15, distribution="exponential"),),
        customers=50_000,
        seed=3,
    )
    assert rich.served == 50_000
    np.testing.assert_allclose(np.sort(rich.waits_minutes), np.sort(bare.waits_minutes))
    assert rich.utilization == pytest.approx(bare.utilization)


def test_simulation_is_deterministic_by_seed() -> None:
    first = simulate_site(_site(), seed=11)
    again = simulate_site(_site(), seed=11)
    other = simulate_site(_site(), seed=12)
    assert first.overall == again.overall
    assert first.overall != other.overall


# ---- against Ciw -----------------------------------------------------------------------------


def test_ciw_gives_the_same_waits_for_the_same_arrivals_and_services() -> None:
    ciw = pytest.importorskip("ciw")
    # Common random numbers: feed Ciw the very interarrival and service times our kernel uses.
    rng = np.random.default_rng(0)
    interarrivals = rng.exponential(0.5, 3000)
    services = rng.exponential(1.0, 3000)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Sequential(interarrivals.tolist())],
        service_distributions=[ciw.dists.Sequential(services.tolist())],
        number_of_servers=[3],
    )
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_customers(3000, method="Arrive")
    ours = fcfs_waits(np.cumsum(interarrivals), services, counters=3)
    records = simulation.get_all_records()
    assert len(records) > 2900
    for record in records:
        assert record.waiting_time == pytest.approx(ours[record.id_number - 1], abs=1e-9)


def test_mean_wait_agrees_with_ciw_on_the_same_model() -> None:
    ciw = pytest.importorskip("ciw")
    # Independent streams. M/M/3, λ = 2/min, μ = 1/min (ρ = 2/3). Ciw is slow (~20k
    # customers/s), so it runs 8 replications of ~5,000 customers after a 100-minute warm-up;
    # ours runs 8 of 50,000. Ciw's replication mean has a standard error near 6%, so the
    # tolerance is 4 combined standard errors (about 23%): a wrong model (another c, or a
    # service-time mix-up) moves the mean wait by far more than that.
    ciw_means = []
    for seed in range(8):
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(rate=2.0)],
            service_distributions=[ciw.dists.Exponential(rate=1.0)],
            number_of_servers=[3],
        )
        ciw.seed(seed)
        simulation = ciw.Simulation(network)
        simulation.simulate_until_max_time(2600)
        waits = [r.waiting_time for r in simulation.get_all_records() if r.arrival_date > 100]
        ciw_means.append(statistics.fmean(waits))
    ours_means = [
        simulate_mmc(
            counters=3, arrivals_per_hour=120, service_time_minutes=1, customers=50_000, seed=s
        ).mean_wait_minutes
        for s in range(8)
    ]
    ciw_mean, ours_mean = statistics.fmean(ciw_means), statistics.fmean(ours_means)
    combined_se = math.hypot(
        statistics.stdev(ciw_means) / math.sqrt(8), statistics.stdev(ours_means) / math.sqrt(8)
    )
    assert combined_se < 0.1 * ciw_mean  # sharp enough to tell 3 counters from 4 or 2
    assert abs(ours_mean - ciw_mean) < 4 * combined_se
    exact = erlang_c(3, 120, 1).mean_wait_minutes
    assert abs(ours_mean - exact) < 4 * statistics.stdev(ours_means) / math.sqrt(8)
    assert erlang_c(4, 120, 1).mean_wait_minutes < ciw_mean - 4 * combined_se


# ---- the site event loop ---------------------------------------------------------------------


def test_no_shows_reduce_the_number_served() -> None:
    everyone = simulate_site(
        _site(appointments=AppointmentPlan(30, 2, 0.0, procedure_mix=(1, 0))), seed=5
    )
    half = simulate_site(
        _site(appointments=AppointmentPlan(30, 2, 0.5, procedure_mix=(1, 0))), seed=5
    )
    assert everyone.no_shows == 0
    assert half.no_shows > 0
    booked_everyone = everyone.by_arrival_type["appointment"].arrived
    booked_half = half.by_arrival_type["appointment"].arrived
    assert booked_everyone == 2 * 7 * 10 + 2 * 8 * 10  # 7 + 8 slots of 30 min per day
    assert booked_half + half.no_shows == booked_everyone
    assert half.served < everyone.served


def test_nobody_is_called_outside_sessions_except_in_overtime() -> None:
    model = _site(walkin_arrivals_per_hour=_hourly(16.0), overtime_limit_minutes=30)
    report = simulate_site(model, seed=2)
    visits = report.visits
    called = visits.call_minutes[~np.isnan(visits.call_minutes)]
    minute_of_day = called % 1440
    in_session = np.zeros(called.size, dtype=bool)
    for session in WEEKDAY:
        in_session |= (minute_of_day >= session.start_minute) & (minute_of_day < session.end_minute)
    in_overtime = (minute_of_day >= 1035) & (minute_of_day <= 1035 + 30)
    assert np.all(in_session | in_overtime)
    assert np.any(in_overtime)  # the overload really spilled into overtime
    assert report.overtime_minutes > 0
    # The last service may run past the limit, but it must have started within it.
    assert report.overtime_minutes <= 10 * (30 + float(visits.service_minutes.max()))


def test_walk_ins_arrive_only_while_a_session_is_open() -> None:
    visits = simulate_site(_site(walkin_arrivals_per_hour=(5.0,) * 24), seed=4).visits
    minute = visits.arrival_minutes[visits.is_walk_in] % 1440
    open_now = np.zeros(minute.size, dtype=bool)
    for session in WEEKDAY:
        open_now |= (minute >= session.start_minute) & (minute < session.end_minute)
    assert open_now.all()


def test_queue_left_at_the_overtime_limit_is_unserved() -> None:
    overloaded = _site(walkin_arrivals_per_hour=_hourly(40.0), overtime_limit_minutes=0)
    generous = dataclasses.replace(overloaded, overtime_limit_minutes=600)
    strict_report = simulate_site(overloaded, seed=8)
    generous_report = simulate_site(generous, seed=8)
    assert strict_report.unserved > 0
    assert generous_report.unserved < strict_report.unserved
    assert strict_report.served + strict_report.unserved == strict_report.overall.arrived


def test_terminal_limit_binds() -> None:
    only_cards = _site(
        walkin_procedure_mix=(1.0, 0.0),
        appointments=None,
        terminals=1,
        walkin_arrivals_per_hour=_hourly(6.0),
    )
    report = simulate_site(only_cards, seed=9)
    visits = report.visits
    served = ~np.isnan(visits.call_minutes)
    starts = visits.call_minutes[served]
    ends = starts + visits.service_minutes[served]
    # At most one card service at a time with one terminal, although 4 counters are open.
    events = sorted([(t, 1) for t in starts] + [(t, -1) for t in ends], key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    assert peak == 1
    unlimited = simulate_site(dataclasses.replace(only_cards, terminals=None), seed=9)
    assert unlimited.mean_wait_minutes < report.mean_wait_minutes / 2


def test_terminal_queue_does_not_block_visitors_who_need_no_terminal() -> None:
    model = _site(terminals=0, appointments=None)
    report = simulate_site(model, seed=6)
    assert report.by_procedure["card_pickup"].served == 0
    assert report.by_procedure["cert_renewal"].served == report.by_procedure["cert_renewal"].arrived


def test_appointments_first_shortens_booked_waits_compared_with_fcfs() -> None:
    busy = _site(walkin_arrivals_per_hour=_hourly(14.0))
    priority = simulate_site(busy, seed=10)
    fcfs = simulate_site(dataclasses.replace(busy, policy="fcfs"), seed=10)
    assert (
        priority.by_arrival_type["appointment"].mean_wait_minutes
        < fcfs.by_arrival_type["appointment"].mean_wait_minutes / 2
    )
    assert (
        priority.by_arrival_type["walk_in"].mean_wait_minutes
        > fcfs.by_arrival_type["walk_in"].mean_wait_minutes
    )


def test_booked_visitor_waits_from_the_slot_start_not_from_an_early_arrival() -> None:
    quiet = _site(walkin_arrivals_per_hour=(0.0,) * 24, terminals=None)
    quiet = dataclasses.replace(
        quiet,
        appointments=AppointmentPlan(
            30,
            1,
            0.0,
            arrival_offset_mean_minutes=-20,
            arrival_offset_sd_minutes=1,
            procedure_mix=(1, 0),
        ),
    )
    report = simulate_site(quiet, seed=1)
    assert report.max_wait_minutes == pytest.approx(0.0)


def test_utilization_counts_service_over_scheduled_counter_minutes() -> None:
    report = simulate_site(_site(), seed=3)
    assert report.scheduled_counter_minutes == 10 * 4 * (210 + 255)
    assert report.utilization == pytest.approx(
        report.busy_counter_minutes / report.scheduled_counter_minutes
    )
    assert 0 < report.utilization < 1


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Session(600, 500, 3),
        lambda: Procedure("x", 0),
        lambda: AppointmentPlan(30, 2, no_show_rate=1.5),
        lambda: _site(walkin_arrivals_per_hour=(1.0,) * 23),
        lambda: _site(sessions_by_day=((Session(500, 700, 2), Session(600, 800, 2)),)),
        lambda: _site(policy="random"),
    ],
)
def test_inconsistent_models_are_rejected(bad: object) -> None:
    with pytest.raises(ValueError):
        bad()  # type: ignore[operator]  # the parameter is a zero-argument callable
