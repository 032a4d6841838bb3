"""Simulation scenario: a plain dict (parsed from TOML by the caller) → a checked :class:`Scenario`.

The keys are documented in docs/simulation-scenario.md. Two forms:

* **continuous** (``continuous = true``): one never-closing period with ``counters`` counters and
  Poisson walk-ins, for ``customers`` visitors (or ``days`` × 24 h of arrivals) — the stationary
  M/M/c or M/G/c model of docs/contract.md;
* **days** (``continuous = false``, the default): ``days`` identical opening days made of
  ``sessions`` (or ``opening_hours`` with ``counters``), walk-ins at an hourly rate, optional
  ``appointments``, ``procedures`` with terminal needs, a calling ``policy`` and an overtime limit.

No I/O here: the command reads the file.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from madoguchi.planning.queueing import erlang_c
from madoguchi.planning.simulation import (
    CALLING_POLICIES,
    AppointmentPlan,
    CallingPolicy,
    Procedure,
    Session,
    SimulationReport,
    SiteModel,
    simulate_continuous_site,
    simulate_site,
)

__all__ = ["Scenario", "ScenarioError", "parse_scenario", "run_scenario"]

MAX_CUSTOMERS = 50_000_000
MAX_DAYS = 3660


class ScenarioError(ValueError):
    """The scenario is malformed; ``problems`` lists every problem found, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Scenario:
    """A checked scenario, ready to run.

    ``site`` is set for the days form; ``counters``/``customers``/``walkin_arrivals_per_hour``
    for the continuous form. ``warnings`` are things worth telling the user that do not stop the
    run (e.g. a continuous load at or above the counters, where the queue never settles).
    """

    seed: int
    continuous: bool
    procedures: tuple[Procedure, ...]
    walkin_procedure_mix: tuple[float, ...]
    counters: int | None = None
    customers: int | None = None
    walkin_arrivals_per_hour: float | None = None
    terminals: int | None = None
    site: SiteModel | None = None
    warnings: tuple[str, ...] = ()

    @property
    def erlang_c_mean_wait_minutes(self) -> float | None:
        """Erlang C mean wait (minutes) when the scenario is exactly M/M/c, else None."""
        if (
            not self.continuous
            or self.counters is None
            or self.walkin_arrivals_per_hour is None
            or len(self.procedures) != 1
            or self.procedures[0].distribution != "exponential"
            or (self.terminals is not None and self.procedures[0].needs_terminal)
        ):
            return None
        return erlang_c(
            self.counters, self.walkin_arrivals_per_hour, self.procedures[0].service_time_minutes
        ).mean_wait_minutes


class _Reader:
    """Collects every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def number(
        self,
        table: Mapping[str, Any],
        key: str,
        *,
        prefix: str = "",
        default: float | None = None,
        minimum: float = 0.0,
        strict: bool = False,
        maximum: float = math.inf,
    ) -> float | None:
        name = prefix + key
        if key not in table:
            if default is None:
                self.fail(name, "is required")
            return default
        value = table[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.fail(name, f"must be a number, got {value!r}")
            return default
        low_ok = value > minimum if strict else value >= minimum
        if not low_ok or value > maximum:
            bound = f"> {minimum:g}" if strict else f"≥ {minimum:g}"
            if maximum != math.inf:
                bound += f" and ≤ {maximum:g}"
            self.fail(name, f"must be {bound}, got {value!r}")
            return default
        return float(value)

    def integer(
        self,
        table: Mapping[str, Any],
        key: str,
        *,
        prefix: str = "",
        default: int | None = None,
        minimum: int = 0,
        maximum: int = 2**62,
    ) -> int | None:
        name = prefix + key
        if key not in table:
            if default is None:
                self.fail(name, "is required")
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"must be a whole number, got {value!r}")
            return default
        if not minimum <= value <= maximum:
            self.fail(name, f"must be between {minimum} and {maximum}, got {value!r}")
            return default
        return value

    def clock(self, table: Mapping[str, Any], key: str, *, prefix: str = "") -> float | None:
        name = prefix + key
        value = table.get(key)
        if not isinstance(value, str):
            self.fail(name, f'must be a time "HH:MM", got {value!r}')
            return None
        try:
            hours, minutes = value.split(":")
            result = int(hours) * 60 + int(minutes)
            if len(minutes) != 2 or not 0 <= int(minutes) < 60 or not 0 <= result <= 1440:
                raise ValueError(value)
        except ValueError:
            self.fail(name, f'must be a time "HH:MM" between 00:00 and 24:00, got {value!r}')
            return None
        return float(result)

    def boolean(self, table: Mapping[str, Any], key: str, default: bool, prefix: str = "") -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(prefix + key, f"must be true or false, got {value!r}")
            return default
        return value

    def table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.fail(key, "must be a table")
            return None
        return cast(Mapping[str, Any], value)


def _procedures(
    reader: _Reader, data: Mapping[str, Any]
) -> tuple[list[Procedure], list[float], list[float]]:
    distribution = data.get("service_distribution", "lognormal")
    if distribution not in ("exponential", "lognormal"):
        reader.fail(
            "service_distribution", f'must be "exponential" or "lognormal", got {distribution!r}'
        )
        distribution = "lognormal"
    raw = data.get("procedures")
    if raw is None:
        mean = reader.number(data, "service_time_minutes", strict=True)
        cv = reader.number(
            data, "service_time_cv", default=1.0 if distribution == "exponential" else 0.4
        )
        if mean is None or cv is None:
            return [], [], []
        return (
            [Procedure("visit", mean, cv, needs_terminal=False, distribution=distribution)],
            [1.0],
            [1.0],
        )
    if not isinstance(raw, list) or not raw:
        reader.fail("procedures", "must be a non-empty array of tables ([[procedures]])")
        return [], [], []
    procedures: list[Procedure] = []
    walkin_mix: list[float] = []
    booked_mix: list[float] = []
    for index, item in enumerate(raw):
        prefix = f"procedures[{index}]."
        if not isinstance(item, Mapping):
            reader.fail(f"procedures[{index}]", "must be a table")
            continue
        code = item.get("code")
        if not isinstance(code, str) or not code:
            reader.fail(prefix + "code", 'is required (e.g. "card_pickup")')
            code = f"procedure{index}"
        mean = reader.number(item, "service_time_minutes", prefix=prefix, strict=True)
        item_distribution = item.get("service_distribution", distribution)
        if item_distribution not in ("exponential", "lognormal"):
            reader.fail(prefix + "service_distribution", 'must be "exponential" or "lognormal"')
            item_distribution = "lognormal"
        cv = reader.number(
            item,
            "service_time_cv",
            prefix=prefix,
            default=1.0 if item_distribution == "exponential" else 0.4,
        )
        walkin = reader.number(item, "walkin_share", prefix=prefix, default=1.0)
        booked = reader.number(item, "appointment_share", prefix=prefix, default=walkin or 0.0)
        terminal = reader.boolean(item, "needs_terminal", False, prefix)
        if mean is None or cv is None or walkin is None or booked is None:
            continue
        procedures.append(Procedure(code, mean, cv, terminal, item_distribution))
        walkin_mix.append(walkin)
        booked_mix.append(booked)
    if procedures and sum(walkin_mix) <= 0:
        reader.fail("procedures", "walkin_share must be positive for at least one procedure")
    if len({p.code for p in procedures}) != len(procedures):
        reader.fail("procedures", "codes must be unique")
    return procedures, walkin_mix, booked_mix


def _sessions(reader: _Reader, data: Mapping[str, Any]) -> list[Session]:
    raw = data.get("sessions")
    sessions: list[Session] = []
    if raw is None:
        hours = reader.table(data, "opening_hours")
        if hours is None:
            reader.fail(
                "sessions",
                'give [[sessions]] or opening_hours = { open = "08:30", close = "17:15" }',
            )
            return []
        start = reader.clock(hours, "open", prefix="opening_hours.")
        end = reader.clock(hours, "close", prefix="opening_hours.")
        counters = reader.integer(data, "counters", minimum=1, maximum=10_000)
        if start is not None and end is not None and counters is not None:
            if end <= start:
                reader.fail("opening_hours", "close must be after open")
            else:
                sessions.append(Session(start, end, counters))
        return sessions
    if not isinstance(raw, list) or not raw:
        reader.fail("sessions", "must be a non-empty array of tables ([[sessions]])")
        return []
    for index, item in enumerate(raw):
        prefix = f"sessions[{index}]."
        if not isinstance(item, Mapping):
            reader.fail(f"sessions[{index}]", "must be a table")
            continue
        start = reader.clock(item, "start", prefix=prefix)
        end = reader.clock(item, "end", prefix=prefix)
        counters = reader.integer(item, "counters", prefix=prefix, minimum=0, maximum=10_000)
        if start is None or end is None or counters is None:
            continue
        if end <= start:
            reader.fail(prefix + "end", "must be after start")
            continue
        sessions.append(Session(start, end, counters))
    ordered = sorted(sessions, key=lambda s: s.start_minute)
    for before, after in itertools.pairwise(ordered):
        if after.start_minute < before.end_minute:
            reader.fail("sessions", "must not overlap")
            return []
    return sessions


def _hourly_rates(reader: _Reader, data: Mapping[str, Any]) -> tuple[float, ...]:
    flat = reader.number(data, "walkin_arrivals_per_hour", default=0.0)
    rates = [flat or 0.0] * 24
    by_hour = reader.table(data, "walkin_arrivals_by_hour")
    for key in by_hour or {}:
        try:
            hour = int(key)
            if not 0 <= hour <= 23:
                raise ValueError(key)
        except ValueError:
            reader.fail(f"walkin_arrivals_by_hour.{key}", 'keys must be hours "0" … "23"')
            continue
        rate = reader.number(by_hour or {}, key, prefix="walkin_arrivals_by_hour.")
        if rate is not None:
            rates[hour] = rate
    return tuple(rates)


def parse_scenario(data: Mapping[str, Any]) -> Scenario:
    """Check a scenario dict (as ``tomllib.load`` returns it) and build a :class:`Scenario`.

    Unknown keys are ignored (docs/contract.md: more keys allowed). Raises ScenarioError listing
    every missing or invalid key with the reason.
    """
    reader = _Reader()
    seed = reader.integer(data, "seed", default=0, minimum=0)
    continuous = reader.boolean(data, "continuous", False)
    procedures, walkin_mix, booked_mix = _procedures(reader, data)
    terminals = reader.integer(data, "terminals", default=-1, minimum=0)
    terminal_limit = None if terminals is None or terminals < 0 else terminals
    warnings: list[str] = []

    if continuous:
        counters = reader.integer(data, "counters", minimum=1, maximum=10_000)
        rate = reader.number(data, "walkin_arrivals_per_hour", strict=True)
        customers = reader.integer(data, "customers", default=-1, minimum=1, maximum=MAX_CUSTOMERS)
        days = reader.integer(data, "days", default=-1, minimum=1, maximum=MAX_DAYS)
        if customers == -1:
            if days == -1:
                reader.fail("customers", "is required for a continuous run (or days = N)")
            elif rate is not None and days is not None:
                customers = max(1, round(rate * 24 * days))
        if reader.problems or counters is None or rate is None or customers is None:
            raise ScenarioError(reader.problems)
        mean_service = sum(
            share * p.service_time_minutes for share, p in zip(walkin_mix, procedures, strict=True)
        ) / sum(walkin_mix)
        load = rate * mean_service / 60.0
        if load >= counters:
            warnings.append(
                f"load {load:.2f} Erlangs on {counters} counters (utilisation "
                f"{load / counters:.0%}): the queue never settles, waits grow with the run length"
            )
        return Scenario(
            seed=seed or 0,
            continuous=True,
            procedures=tuple(procedures),
            walkin_procedure_mix=tuple(walkin_mix),
            counters=counters,
            customers=customers,
            walkin_arrivals_per_hour=rate,
            terminals=terminal_limit,
            warnings=tuple(warnings),
        )

    days = reader.integer(data, "days", minimum=1, maximum=MAX_DAYS)
    sessions = _sessions(reader, data)
    rates = _hourly_rates(reader, data)
    policy = data.get("policy", "appointments_first")
    if policy not in CALLING_POLICIES:
        reader.fail("policy", f"must be one of {', '.join(CALLING_POLICIES)}, got {policy!r}")
    overtime = reader.number(data, "overtime_limit_minutes", default=60.0)
    appointments: AppointmentPlan | None = None
    booked = reader.table(data, "appointments")
    if booked is not None:
        prefix = "appointments."
        slot = reader.number(booked, "slot_minutes", prefix=prefix, strict=True)
        per_slot = reader.integer(booked, "bookings_per_slot", prefix=prefix, minimum=0)
        no_show = reader.number(booked, "no_show_rate", prefix=prefix, default=0.1, maximum=1.0)
        offset_mean = reader.number(
            booked, "arrival_offset_mean_minutes", prefix=prefix, default=-5.0, minimum=-1440
        )
        offset_sd = reader.number(booked, "arrival_offset_sd_minutes", prefix=prefix, default=5.0)
        if (
            slot is not None
            and per_slot is not None
            and no_show is not None
            and offset_mean is not None
            and offset_sd is not None
            and procedures
        ):
            if sum(booked_mix) <= 0:
                reader.fail("procedures", "appointment_share must be positive for one procedure")
            else:
                appointments = AppointmentPlan(
                    slot, per_slot, no_show, offset_mean, offset_sd, tuple(booked_mix)
                )
    if reader.problems or days is None or overtime is None or not procedures:
        raise ScenarioError(reader.problems or ["procedures: none given"])
    try:
        site = SiteModel(
            procedures=tuple(procedures),
            sessions_by_day=(tuple(sessions),) * days,
            walkin_arrivals_per_hour=rates,
            walkin_procedure_mix=tuple(walkin_mix),
            appointments=appointments,
            terminals=terminal_limit,
            policy=cast(CallingPolicy, policy),
            overtime_limit_minutes=overtime,
        )
    except ValueError as error:
        raise ScenarioError([str(error)]) from None
    if sum(rates) == 0 and (appointments is None or appointments.bookings_per_slot == 0):
        warnings.append("no walk-ins and no appointments: nobody will come")
    return Scenario(
        seed=seed or 0,
        continuous=False,
        procedures=tuple(procedures),
        walkin_procedure_mix=tuple(walkin_mix),
        terminals=terminal_limit,
        site=site,
        warnings=tuple(warnings),
    )


def run_scenario(scenario: Scenario) -> SimulationReport:
    """Run the scenario's simulation (deterministic by its seed) and return the report."""
    if scenario.site is not None:
        return simulate_site(scenario.site, seed=scenario.seed)
    if (
        scenario.counters is None
        or scenario.customers is None
        or scenario.walkin_arrivals_per_hour is None
    ):
        raise ScenarioError(["a continuous scenario needs counters, customers and arrivals"])
    return simulate_continuous_site(
        counters=scenario.counters,
        walkin_arrivals_per_hour=scenario.walkin_arrivals_per_hour,
        procedures=scenario.procedures,
        customers=scenario.customers,
        seed=scenario.seed,
        walkin_procedure_mix=scenario.walkin_procedure_mix,
        terminals=scenario.terminals,
    )
