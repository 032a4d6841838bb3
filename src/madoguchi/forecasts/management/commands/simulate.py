"""`madoguchi simulate --scenario FILE [--json]`: simulate a counter site from a TOML scenario."""

from __future__ import annotations

import io
import json
import math
import tomllib
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.table import Table

from madoguchi.planning.scenario import Scenario, ScenarioError, parse_scenario, run_scenario
from madoguchi.planning.simulation import SimulationReport, WaitSummary

HELP = """\
Simulate a counter site from a TOML scenario and report waits, utilisation, overtime and anyone
left unserved (minutes). Deterministic by `seed`. Keys (see docs/simulation-scenario.md):

continuous form: counters, walkin_arrivals_per_hour, service_time_minutes,
  service_distribution = "exponential" | "lognormal" (+ service_time_cv), continuous = true,
  customers = N (or days = N), seed, terminals.
days form: days, seed, [[sessions]] start/end "HH:MM" + counters (or opening_hours =
  {open, close} with counters), walkin_arrivals_per_hour and/or walkin_arrivals_by_hour =
  {"9" = 12.0, ...}, [[procedures]] code, service_time_minutes, service_time_cv,
  needs_terminal, walkin_share, appointment_share; [appointments] slot_minutes,
  bookings_per_slot, no_show_rate, arrival_offset_mean_minutes, arrival_offset_sd_minutes;
  terminals, policy = "appointments_first" | "fcfs", overtime_limit_minutes.
Exit status 0; 2 when the file cannot be read or the scenario is invalid.
"""


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def _summary_json(summary: WaitSummary) -> dict[str, Any]:
    return {
        "arrived": summary.arrived,
        "served": summary.served,
        "unserved": summary.unserved,
        "mean_wait_minutes": _number(summary.mean_wait_minutes),
        "p90_wait_minutes": _number(summary.p90_wait_minutes),
        "max_wait_minutes": _number(summary.max_wait_minutes),
    }


def report_json(scenario: Scenario, report: SimulationReport) -> dict[str, Any]:
    """The `--json` document: CONTRACT keys first, then the breakdowns."""
    document: dict[str, Any] = {
        "served": report.served,
        "mean_wait_minutes": _number(report.mean_wait_minutes),
        "p90_wait_minutes": _number(report.p90_wait_minutes),
        "utilization": _number(report.utilization),
        "max_wait_minutes": _number(report.max_wait_minutes),
        "unserved": report.unserved,
        "no_shows": report.no_shows,
        "overtime_minutes": _number(report.overtime_minutes),
        "days": report.days,
        "continuous": scenario.continuous,
        "seed": scenario.seed,
        "by_procedure": {code: _summary_json(s) for code, s in report.by_procedure.items()},
        "by_arrival_type": {kind: _summary_json(s) for kind, s in report.by_arrival_type.items()},
        "warnings": list(scenario.warnings),
    }
    exact = scenario.erlang_c_mean_wait_minutes
    if exact is not None:
        document["erlang_c_mean_wait_minutes"] = _number(exact)
    return document


def _fmt(value: float, digits: int = 1) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scenario", required=True, help="TOML scenario file")
        parser.add_argument("--json", action="store_true", help="print a JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["scenario"]
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except OSError as error:
            self._reject([f"シナリオファイルを読めません: {path}: {error.strerror}"])
        except tomllib.TOMLDecodeError as error:
            self._reject([f"シナリオファイルが TOML として正しくありません: {path}: {error}"])
        except UnicodeDecodeError:
            self._reject([f"シナリオファイルは UTF-8 で保存してください: {path}"])
        try:
            scenario = parse_scenario(data)
        except ScenarioError as error:
            self._reject(
                [f"シナリオに誤りがあります ({path}):", *(f"  {p}" for p in error.problems)]
            )
        for warning in scenario.warnings:
            self.stderr.write(f"注意: {warning}")
        report = run_scenario(scenario)
        if options["json"]:
            self.stdout.write(json.dumps(report_json(scenario, report), ensure_ascii=False))
            return
        self._print_table(scenario, report)

    def _print_table(self, scenario: Scenario, report: SimulationReport) -> None:
        buffer = io.StringIO()
        console = Console(file=buffer, width=100, force_terminal=False, no_color=True)
        title = (
            f"{scenario.customers} customers, continuous"
            if scenario.continuous
            else f"{report.days} days"
        )
        table = Table(title=f"Simulation ({title}, seed {scenario.seed}) — waits in minutes")
        for column in ("group", "came", "served", "unserved", "mean", "p90", "max"):
            table.add_column(column, justify="left" if column == "group" else "right")
        rows = [("all", report.overall)]
        rows += [(f"procedure {code}", s) for code, s in report.by_procedure.items()]
        rows += [(kind.replace("_", "-"), s) for kind, s in report.by_arrival_type.items()]
        for name, summary in rows:
            if summary.arrived == 0 and name != "all":
                continue
            table.add_row(
                name,
                str(summary.arrived),
                str(summary.served),
                str(summary.unserved),
                _fmt(summary.mean_wait_minutes, 2),
                _fmt(summary.p90_wait_minutes, 2),
                _fmt(summary.max_wait_minutes, 2),
            )
        console.print(table)
        console.print(f"utilisation {report.utilization:.1%}")
        if not scenario.continuous:
            console.print(
                f"overtime {report.overtime_minutes:.0f} min in total, no-shows {report.no_shows}"
            )
        exact = scenario.erlang_c_mean_wait_minutes
        if exact is not None:
            console.print(f"Erlang C mean wait {exact:.2f} min (steady state)")
        self.stdout.write(buffer.getvalue(), ending="")

    def _reject(self, lines: list[str]) -> NoReturn:
        for line in lines:
            self.stderr.write(line)
        raise SystemExit(2)
