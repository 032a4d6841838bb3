"""Configuration comes from the environment; garbage stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from madoguchi.env import (
    EnvError,
    database_is_local,
    default_workers,
    env_bool,
    env_choice,
    env_database_url,
    env_int,
    env_list,
    env_login_limits,
    env_secret,
)


def test_unset_and_blank_variables_take_the_default() -> None:
    assert env_int("X", 8000, environ={}) == 8000
    assert env_int("X", 8000, environ={"X": "  "}) == 8000
    assert env_bool("X", False, environ={"X": ""}) is False


def test_valid_values_are_parsed() -> None:
    assert env_int("P", 1, minimum=1, maximum=65535, environ={"P": "8080"}) == 8080
    assert env_bool("D", False, environ={"D": "yes"}) is True
    assert env_bool("D", True, environ={"D": "0"}) is False
    assert env_choice("Z", "all", ("all", "public", "staff"), environ={"Z": "staff"}) == "staff"
    assert env_list("H", [], environ={"H": "a.example, b.example,"}) == ["a.example", "b.example"]
    assert env_database_url("U", "", environ={"U": "postgres://u@h/db"}) == "postgres://u@h/db"


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (
            lambda: env_int("MADOGUCHI_PORT", 1, environ={"MADOGUCHI_PORT": "eighty"}),
            "MADOGUCHI_PORT",
        ),
        (
            lambda: env_int(
                "MADOGUCHI_PORT", 1, minimum=1, maximum=65535, environ={"MADOGUCHI_PORT": "70000"}
            ),
            "MADOGUCHI_PORT",
        ),
        (
            lambda: env_bool("MADOGUCHI_DEBUG", False, environ={"MADOGUCHI_DEBUG": "maybe"}),
            "MADOGUCHI_DEBUG",
        ),
        (
            lambda: env_choice(
                "MADOGUCHI_ZONE",
                "all",
                ("all", "public", "staff"),
                environ={"MADOGUCHI_ZONE": "dmz"},
            ),
            "MADOGUCHI_ZONE",
        ),
        (
            lambda: env_database_url("DATABASE_URL", "", environ={"DATABASE_URL": "mysql://x"}),
            "DATABASE_URL",
        ),
    ],
)
def test_garbage_is_rejected_naming_the_variable(call: Callable[[], object], name: str) -> None:
    with pytest.raises(EnvError) as caught:
        call()
    assert caught.value.name == name
    assert name in str(caught.value)


@pytest.mark.parametrize(
    "url", ["sqlite:///:memory:", "sqlite:///", "sqlite:///file:db?mode=memory&cache=shared"]
)
def test_an_in_memory_sqlite_database_is_refused(url: str) -> None:
    """Every connection would get a new, empty database, and settings.py made a file named
    ":memory:" in the working directory for it (one was committed once)."""
    with pytest.raises(EnvError, match="DATABASE_URL") as caught:
        env_database_url("DATABASE_URL", "", environ={"DATABASE_URL": url})
    assert "sqlite:///パス" in str(caught.value)
    assert env_database_url("DATABASE_URL", "", environ={"DATABASE_URL": "sqlite:///db"})


def test_secret_file_is_read_and_a_missing_one_is_named(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret\n", encoding="utf-8")
    assert env_secret("K", "K_FILE", "", environ={"K_FILE": str(secret)}) == "s3cret"
    with pytest.raises(EnvError, match="K_FILE"):
        env_secret("K", "K_FILE", "", environ={"K_FILE": str(tmp_path / "missing")})


def test_the_console_script_refuses_to_start_on_garbage(tmp_path: Path) -> None:
    env = {**os.environ, "MADOGUCHI_DEBUG": "perhaps", "MADOGUCHI_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", "from madoguchi.cli import main; main(['madoguchi', 'check'])"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "MADOGUCHI_DEBUG" in result.stderr


def test_rate_limits_and_weights_are_read_from_the_environment() -> None:
    from madoguchi.env import env_rate_limits, env_weights

    base = {"ip": (120, 60)}
    assert env_rate_limits("R", base, environ={"R": "notice=5/300"}) == {
        "ip": (120, 60),
        "notice": (5, 300),
    }
    assert env_rate_limits("R", base, environ={"R": "off"}) == {}
    assert env_weights("W", {"a": 1}, environ={"W": "b=3"}) == {"a": 1, "b": 3}
    for bad in ("notice=5", "notice=five/60", "notice=5/0", "notice"):
        with pytest.raises(EnvError, match="R"):
            env_rate_limits("R", base, environ={"R": bad})
    with pytest.raises(EnvError, match="W"):
        env_weights("W", {}, environ={"W": "a=-1"})


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("sqlite:///var/madoguchi.sqlite3", True),
        ("postgres://madoguchi@127.0.0.1:54329/madoguchi", True),
        ("postgres://madoguchi@localhost/madoguchi", True),
        ("postgresql://u@[::1]:5432/db", True),
        ("postgres:///madoguchi", True),
        ("postgres://u@%2Frun%2Fpostgresql/db", True),
        ("postgres://u@/db?host=/run/postgresql", True),
        ("postgres://u@db.internal:5432/madoguchi", False),
        ("postgres://u@10.0.0.5/madoguchi", False),
        ("postgres://u@localhost.example.jp/madoguchi", False),
    ],
)
def test_database_is_local(url: str, local: bool) -> None:
    assert database_is_local(url) is local


def test_default_workers_one_per_core_beside_the_database_else_twice_plus_one() -> None:
    assert default_workers("postgres://u@127.0.0.1/db", cores=2) == 2
    assert default_workers("sqlite:///x.sqlite3", cores=8) == 8
    assert default_workers("postgres://u@db.internal/db", cores=2) == 5
    assert default_workers("postgres://u@db.internal/db", cores=None) >= 3


def test_madoguchi_workers_overrides_the_default() -> None:
    code = "from django.conf import settings; print(settings.WORKERS)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "madoguchi.settings"}
    env.update(DATABASE_URL="postgres://u@db.internal/db", MADOGUCHI_WORKERS="7")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "7", out.stderr
    env.pop("MADOGUCHI_WORKERS")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == str(2 * (os.cpu_count() or 1) + 1), out.stderr


def _variables_read_by_the_code() -> set[str]:
    import re

    src = Path(__file__).resolve().parents[1] / "src" / "madoguchi"
    found: set[str] = set()
    for path in src.rglob("*.py"):
        found |= set(re.findall(r"[\"'](MADOGUCHI_[A-Z0-9_]+)[\"']", path.read_text()))
    return found


def test_every_variable_the_code_reads_is_in_env_example_and_settings() -> None:
    root = Path(__file__).resolve().parents[1]
    example = (root / ".env.example").read_text()
    settings_text = (root / "src" / "madoguchi" / "settings.py").read_text()
    read = _variables_read_by_the_code()
    assert "MADOGUCHI_DATA_DIR" in read  # the scan finds what the code reads
    # MADOGUCHI_TEST_DATABASE_URL is read by the tests and CI only, and is documented anyway.
    assert sorted(v for v in read if v not in example) == []
    assert sorted(v for v in read if v not in settings_text) == []


def _settings_value(name: str, **variables: str) -> subprocess.CompletedProcess[str]:
    code = f"from django.conf import settings; print(settings.{name})"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "madoguchi.settings", **variables}
    for unset in ("MADOGUCHI_AUDIT_KEY", "MADOGUCHI_AUDIT_KEY_FILE", "DATABASE_URL"):
        if unset not in variables:
            env.pop(unset, None)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_audit_key_defaults_to_a_private_file_made_once_in_the_data_dir(
    tmp_path: Path,
) -> None:
    first = _settings_value("MADOGUCHI_AUDIT_KEY", MADOGUCHI_DATA_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "audit_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert first.stdout.strip() == key_file.read_text().strip()
    assert len(first.stdout.strip()) >= 32
    again = _settings_value("MADOGUCHI_AUDIT_KEY", MADOGUCHI_DATA_DIR=str(tmp_path))
    assert again.stdout == first.stdout  # made once, kept


def test_the_audit_key_comes_from_the_environment_or_its_file(tmp_path: Path) -> None:
    key = "k" * 40
    given = _settings_value(
        "MADOGUCHI_AUDIT_KEY", MADOGUCHI_DATA_DIR=str(tmp_path), MADOGUCHI_AUDIT_KEY=key
    )
    assert given.stdout.strip() == key
    path = tmp_path / "secret"
    path.write_text("f" * 48 + "\n")
    from_file = _settings_value(
        "MADOGUCHI_AUDIT_KEY", MADOGUCHI_DATA_DIR=str(tmp_path), MADOGUCHI_AUDIT_KEY_FILE=str(path)
    )
    assert from_file.stdout.strip() == "f" * 48
    assert not (tmp_path / "audit_key").exists()  # nothing generated when one is given


def test_a_short_audit_key_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    short = _settings_value(
        "MADOGUCHI_AUDIT_KEY", MADOGUCHI_DATA_DIR=str(tmp_path), MADOGUCHI_AUDIT_KEY="secret"
    )
    assert short.returncode != 0
    assert "MADOGUCHI_AUDIT_KEY" in short.stderr
    assert "secret" not in short.stderr  # the refused key is not echoed


def test_staff_login_limits_can_be_changed_but_never_switched_off() -> None:
    default = {"account": (5, 900), "address": (20, 900)}
    assert env_login_limits("L", default, environ={}) == default
    assert env_login_limits("L", default, environ={"L": "account=3/600"}) == {
        "account": (3, 600),
        "address": (20, 900),
    }
    for refused in ("off", "OFF", "account=0/600", "everyone=3/600", "account=3"):
        with pytest.raises(EnvError, match="L"):
            env_login_limits("L", default, environ={"L": refused})
