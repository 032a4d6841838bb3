"""`madoguchi serve`: the gunicorn it starts (the process is replaced by it, so the command line
is read where `os.execv` would run it)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command


def served_argv(monkeypatch: pytest.MonkeyPatch, **options: Any) -> tuple[list[str], str]:
    started: list[list[str]] = []
    monkeypatch.setattr("os.execv", lambda _path, argv: started.append(list(argv)))
    out = io.StringIO()
    call_command("serve", stdout=out, **options)
    (argv,) = started
    return argv, out.getvalue()


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_two_servers_of_one_machine_keep_their_own_control_sockets_in_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    public, _ = served_argv(monkeypatch, host="127.0.0.1", port=8001)
    staff, _ = served_argv(monkeypatch, host="127.0.0.1", port=8002)
    other_address, _ = served_argv(monkeypatch, host="10.0.0.5", port=8001)

    sockets = [Path(option(argv, "--control-socket")) for argv in (public, staff, other_address)]
    assert len(set(sockets)) == 3
    assert all(socket.parent == tmp_path for socket in sockets)
    assert option(public, "--bind") == "127.0.0.1:8001"


def test_a_data_directory_too_deep_for_a_socket_path_runs_without_the_control_socket(
    monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path / ("d" * 120)
    argv, out = served_argv(monkeypatch, host="127.0.0.1", port=8001)

    assert "--no-control-socket" in argv
    assert "--control-socket" not in argv
    assert "制御ソケットは使いません" in out
