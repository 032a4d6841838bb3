"""Safe transport: a strict Content-Security-Policy on every answer, HSTS and Secure cookies by
default over HTTPS, no inline script or style in any template, the data directory and the
SQLite database readable by the owner only."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "madoguchi"

PAGES = [
    "/",  # residents
    "/lookup/",
    "/queue/",
    "/staff/login/",  # staff
    "/admin/login/",
    "/api/v1/procedures",  # API
    "/api/v1/openapi.json",
    "/api/v1/no-such-thing",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_every_answer_carries_the_strict_policy(url: str) -> None:
    response = Client().get(url)
    assert response.status_code < 500
    policy = response["Content-Security-Policy"]
    assert policy == django_settings.CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/staff/login/", "/api/v1/procedures"])
def test_hsts_is_sent_over_https_and_never_over_http(url: str) -> None:
    secure = Client().get(url, secure=True)
    plain = Client().get(url)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in plain


@pytest.mark.django_db
def test_cookies_are_secure_when_served_over_https(settings: Any) -> None:
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True  # the default
    response = Client().get("/staff/login/", secure=True)
    cookie = response.cookies["csrftoken"]
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"


def _settings_in_a_fresh_process(tmp_path: Path, **env: str) -> dict[str, Any]:
    code = (
        "import json, django; from django.conf import settings;"
        "print(json.dumps({k: getattr(settings, k) for k in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS')}))"
    )
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MADOGUCHI_") and key != "DATABASE_URL"
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="madoguchi.settings", MADOGUCHI_DATA_DIR=str(tmp_path), **env
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


def test_https_protections_are_on_by_default_and_off_only_when_asked(tmp_path: Path) -> None:
    assert _settings_in_a_fresh_process(tmp_path / "a") == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
    }
    assert _settings_in_a_fresh_process(tmp_path / "b", MADOGUCHI_HTTPS="false") == {
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
    }


def test_the_demo_serves_plain_http_on_a_laptop() -> None:
    source = (PACKAGE / "demo" / "management" / "commands" / "demo.py").read_text()
    assert 'os.environ.setdefault("MADOGUCHI_HTTPS", "false")' in source


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), 'style="" attribute'),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]
TEMPLATES = sorted(PACKAGE.rglob("templates/**/*.html"))


def test_templates_were_found() -> None:
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_template_has_inline_script_or_style(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert found == [], f"{template}: {found} (the policy would block it: use a static file)"


def test_data_directory_database_and_keys_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    code = (
        "import django; django.setup();"
        "from django.db import connection;"
        "cursor = connection.cursor(); cursor.execute('create table t (x integer)');"
        "cursor.execute('insert into t values (1)');"
        "import json, os, stat; from django.conf import settings; d = settings.DATA_DIR;"
        "print(json.dumps({n: stat.S_IMODE(os.stat(d / n).st_mode) for n in os.listdir(d)}))"
    )
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MADOGUCHI_") and key != "DATABASE_URL"
    }
    environ.update(DJANGO_SETTINGS_MODULE="madoguchi.settings", MADOGUCHI_DATA_DIR=str(data))
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environ,
        check=True,
        umask=0o022,
        capture_output=True,
        text=True,
    )
    mode = json.loads(done.stdout)  # while the connection is open: its -wal file exists
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert mode["madoguchi.sqlite3"] == 0o600
    assert mode["madoguchi.sqlite3-wal"] == 0o600
    assert mode["secret_key"] == 0o600


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    (data / "madoguchi.sqlite3").touch(mode=0o644)
    os.chmod(data, 0o755)
    os.chmod(data / "madoguchi.sqlite3", 0o644)
    _settings_in_a_fresh_process(data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "madoguchi.sqlite3").stat().st_mode) == 0o600
