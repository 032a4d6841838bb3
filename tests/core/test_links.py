"""Links into the public site follow the configured address, or the port the server serves on
when none is configured (a demo on :8123 must not link to :8000)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from madoguchi.core.links import BASE_URL_VARIABLE, follow_server_port, public_url


@pytest.fixture
def unset(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Any:
    monkeypatch.setenv(BASE_URL_VARIABLE, "")  # recorded, so what the test sets is undone
    monkeypatch.delenv(BASE_URL_VARIABLE)
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    return settings


def test_without_a_configured_address_links_follow_the_port_served(unset: Any) -> None:
    assert follow_server_port(host="0.0.0.0", port=8123) == "http://127.0.0.1:8123"
    assert public_url("resident_site:lookup", code="ACDEFGHJKL") == (
        "http://127.0.0.1:8123/lookup/?code=ACDEFGHJKL"
    )
    assert os.environ[BASE_URL_VARIABLE] == "http://127.0.0.1:8123", "the workers read it too"


def test_a_named_host_is_kept(unset: Any) -> None:
    assert follow_server_port(host="madoguchi.local", port=9000) == "http://madoguchi.local:9000"


def test_a_configured_address_always_wins(
    unset: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setenv(BASE_URL_VARIABLE, "https://yoyaku.example.lg.jp")
    settings.PUBLIC_BASE_URL = "https://yoyaku.example.lg.jp"
    assert follow_server_port(host="127.0.0.1", port=8123) == "https://yoyaku.example.lg.jp"
    assert public_url("resident_site:lookup").startswith("https://yoyaku.example.lg.jp/lookup/")


def test_the_default_address_is_this_machine_on_madoguchi_port() -> None:
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.PUBLIC_BASE_URL)"
    env = {k: v for k, v in os.environ.items() if k != BASE_URL_VARIABLE}
    env.update(MADOGUCHI_PORT="8765", DJANGO_SETTINGS_MODULE="madoguchi.settings")
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "http://127.0.0.1:8765"
