"""Simulation speed: the identical M/M/6 model at 85% load through ours, Ciw and SimPy.

λ = 20.4/h, exponential service with mean 15 min, 6 counters, 300,000 customers, FCFS, starting
empty. Prints customers/s, mean wait against Erlang C, and ours ÷ Ciw speed ratios (target ≥ 30×).
The site event loop runs twice: with one queue (the recursion it uses when every visitor waits in
the same queue) and with two queues (half the visitors need a terminal, never short: the general
event loop that sites with appointments and walk-ins take).

    .venv/bin/python bench/bench_simulation.py [--customers N] [--seed S]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import ciw
import numpy as np
import simpy
from rich.console import Console
from rich.table import Table

from madoguchi.planning.queueing import erlang_c
from madoguchi.planning.simulation import Procedure, simulate_continuous_site, simulate_mmc
from smoke import size

COUNTERS = 6
ARRIVALS_PER_HOUR = 20.4
SERVICE_MINUTES = 15.0


def ours_bare(customers: int, seed: int) -> float:
    run = simulate_mmc(
        counters=COUNTERS,
        arrivals_per_hour=ARRIVALS_PER_HOUR,
        service_time_minutes=SERVICE_MINUTES,
        customers=customers,
        seed=seed,
    )
    return run.mean_wait_minutes


def ours_rich(customers: int, seed: int) -> float:
    report = simulate_continuous_site(
        counters=COUNTERS,
        walkin_arrivals_per_hour=ARRIVALS_PER_HOUR,
        procedures=(Procedure("visit", SERVICE_MINUTES, distribution="exponential"),),
        customers=customers,
        seed=seed,
    )
    return report.mean_wait_minutes


def ours_rich_general(customers: int, seed: int) -> float:
    # Half the visitors need a terminal (never short here): two queues, so the general event
    # loop runs (the path of sites with appointments and walk-ins) instead of the one-queue
    # recursion. Same model; the procedure draw changes the random stream.
    report = simulate_continuous_site(
        counters=COUNTERS,
        walkin_arrivals_per_hour=ARRIVALS_PER_HOUR,
        procedures=(
            Procedure("visit", SERVICE_MINUTES, distribution="exponential"),
            Procedure(
                "visit_pin", SERVICE_MINUTES, distribution="exponential", needs_terminal=True
            ),
        ),
        walkin_procedure_mix=(0.5, 0.5),
        customers=customers,
        seed=seed,
    )
    return report.mean_wait_minutes


def with_ciw(customers: int, seed: int) -> float:
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=ARRIVALS_PER_HOUR / 60.0)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / SERVICE_MINUTES)],
        number_of_servers=[COUNTERS],
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_customers(customers, method="Arrive")
    waits = [record.waiting_time for record in simulation.get_all_records()]
    return float(np.mean(waits))


def with_simpy(customers: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    interarrivals = rng.exponential(60.0 / ARRIVALS_PER_HOUR, customers).tolist()
    services = rng.exponential(SERVICE_MINUTES, customers).tolist()
    env = simpy.Environment()
    counters = simpy.Resource(env, capacity=COUNTERS)
    waits: list[float] = []

    def visitor(service: float) -> simpy.events.ProcessGenerator:
        arrived = env.now
        with counters.request() as request:
            yield request
            waits.append(env.now - arrived)
            yield env.timeout(service)

    def source() -> simpy.events.ProcessGenerator:
        for gap, service in zip(interarrivals, services, strict=True):
            yield env.timeout(gap)
            env.process(visitor(service))

    env.process(source())
    env.run()
    return float(np.mean(waits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=size(300_000, 5_000))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    exact = erlang_c(COUNTERS, ARRIVALS_PER_HOUR, SERVICE_MINUTES).mean_wait_minutes
    engines: list[tuple[str, Callable[[int, int], float]]] = [
        ("ours: bare heap kernel", ours_bare),
        ("ours: site event loop", ours_rich),
        ("ours: site event loop, 2 queues", ours_rich_general),
        ("SimPy 4 (Resource)", with_simpy),
        ("Ciw 3", with_ciw),
    ]
    timings: dict[str, tuple[float, float]] = {}
    for name, engine in engines:
        started = time.perf_counter()
        mean_wait = engine(args.customers, args.seed)
        timings[name] = (time.perf_counter() - started, mean_wait)
    ciw_seconds = timings["Ciw 3"][0]
    table = Table(
        title=(
            f"M/M/{COUNTERS}, λ={ARRIVALS_PER_HOUR}/h, S={SERVICE_MINUTES:g} min (ρ=0.85), "
            f"{args.customers:,} customers, seed {args.seed} — Erlang C mean wait {exact:.2f} min"
        )
    )
    for column in (
        "engine",
        "seconds",
        "customers/s",
        "mean wait (min)",
        "vs Erlang C",
        "speed vs Ciw",
    ):
        table.add_column(column, justify="left" if column == "engine" else "right")
    for name, (seconds, mean_wait) in timings.items():
        table.add_row(
            name,
            f"{seconds:.2f}",
            f"{args.customers / seconds:,.0f}",
            f"{mean_wait:.2f}",
            f"{mean_wait / exact - 1:+.1%}",
            f"{ciw_seconds / seconds:.1f}×",
        )
    console = Console(width=120)
    console.print(table)
    console.print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"numpy {np.__version__}, Ciw {ciw.__version__}, SimPy {simpy.__version__}"
    )


if __name__ == "__main__":
    main()
