"""`madoguchi simulate --scenario FILE [--json]` per docs/contract.md."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """\
counters = 6
walkin_arrivals_per_hour = 20.4
service_time_minutes = 15
service_distribution = "exponential"
continuous = true
customers = {customers}
seed = 1
"""


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("simulate", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def scenario(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_minimal_stationary_scenario_prints_contract_json(tmp_path: Path) -> None:
    status, out, err = run(
        "--scenario", scenario(tmp_path, MINIMAL.format(customers=100_000)), "--json"
    )
    assert status == 0, err
    document = json.loads(out)
    assert document["served"] == 100_000
    assert document["utilization"] == pytest.approx(0.85, abs=0.02)
    assert document["erlang_c_mean_wait_minutes"] == pytest.approx(10.40, abs=0.01)
    # One 100k run sits within ~20% of Erlang C (sd ≈ 6%); a broken model misses by far more.
    assert document["mean_wait_minutes"] == pytest.approx(10.40, rel=0.2)
    assert document["p90_wait_minutes"] > document["mean_wait_minutes"]


def test_same_seed_gives_the_same_answer(tmp_path: Path) -> None:
    path = scenario(tmp_path, MINIMAL.format(customers=5000))
    assert run("--scenario", path, "--json")[1] == run("--scenario", path, "--json")[1]


def test_readable_table_without_json(tmp_path: Path) -> None:
    status, out, _ = run("--scenario", scenario(tmp_path, MINIMAL.format(customers=2000)))
    assert status == 0
    assert "mean" in out and "p90" in out
    assert "utilisation" in out
    assert "Erlang C mean wait 10.40 min" in out


def test_example_scenarios_in_docs_run() -> None:
    status, out, err = run("--scenario", str(REPO / "docs/examples/scenario-site.toml"), "--json")
    assert status == 0, err
    document = json.loads(out)
    assert set(document["by_procedure"]) == {"card_pickup", "cert_renewal"}
    assert document["by_arrival_type"]["appointment"]["arrived"] > 0
    assert document["no_shows"] > 0
    assert (REPO / "docs/examples/scenario-mmc.toml").exists()


def test_days_form_with_opening_hours(tmp_path: Path) -> None:
    text = """\
days = 5
seed = 3
counters = 3
opening_hours = { open = "08:30", close = "17:15" }
walkin_arrivals_per_hour = 9
service_time_minutes = 15
service_distribution = "lognormal"
service_time_cv = 0.5
overtime_limit_minutes = 30
"""
    status, out, err = run("--scenario", scenario(tmp_path, text), "--json")
    assert status == 0, err
    document = json.loads(out)
    assert document["days"] == 5
    assert 0.5 < document["utilization"] < 0.95
    assert (
        document["served"] + document["unserved"]
        == document["by_arrival_type"]["walk_in"]["arrived"]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "continuous = true\nwalkin_arrivals_per_hour = 5\nservice_time_minutes = 5\n"
            "customers = 10\n",
            "counters: is required",
        ),
        (MINIMAL.format(customers=10).replace("counters = 6", "counters = -2"), "counters"),
        (MINIMAL.format(customers=10).replace("= 15", "= -15"), "service_time_minutes"),
        (MINIMAL.format(customers=-5), "customers"),
        (MINIMAL.format(customers=10).replace('"exponential"', '"gamma"'), "service_distribution"),
        ("days = 3\nservice_time_minutes = 10\n", "sessions"),
        (
            'days = 3\nservice_time_minutes = 10\n[[sessions]]\nstart = "9:00"\nend = "8:00"\n'
            "counters = 2\n",
            "sessions[0].end",
        ),
        ("counters = [", "TOML"),
    ],
)
def test_bad_scenarios_exit_2_with_a_clear_message(tmp_path: Path, text: str, message: str) -> None:
    status, out, err = run("--scenario", scenario(tmp_path, text))
    assert status == 2
    assert message in err
    assert out == ""


def test_missing_file_exits_2(tmp_path: Path) -> None:
    status, _, err = run("--scenario", str(tmp_path / "nope.toml"))
    assert status == 2
    assert "nope.toml" in err


def test_overloaded_continuous_run_warns_but_runs(tmp_path: Path) -> None:
    text = MINIMAL.format(customers=3000).replace("20.4", "30")
    status, out, err = run("--scenario", scenario(tmp_path, text), "--json")
    assert status == 0
    assert "注意" in err and "never settles" in err
    assert json.loads(out)["warnings"]
