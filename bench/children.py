"""What the benchmarks that measure through Django share: a child process per database (SQLite
in a temp dir, or a fresh PostgreSQL database created and dropped around it) and a staff client
signed in through both steps (password, then the demo account's authenticator device)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse, urlunparse

BENCH = Path(__file__).resolve().parent
T = TypeVar("T")


def run_child(code: str, *args: str, env: dict[str, str]) -> list[str]:
    """Run `code` in a fresh interpreter (this bench folder importable); its stdout, split."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={
            **os.environ,
            **env,
            "PYTHONPATH": os.pathsep.join([str(BENCH), os.environ.get("PYTHONPATH", "")]),
        },
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()


def last_json(out: list[str], key: str) -> dict[str, Any]:
    """The last JSON object printed (without spaces) by a child whose first key is `key` — the
    audit sealer may print its checkpoint line after it."""
    prefix = '{"' + key + '"'
    result: dict[str, Any] = json.loads(next(t for t in reversed(out) if t.startswith(prefix)))
    return result


def on_fresh_postgres(suffix: str, run: Callable[[dict[str, str]], T]) -> T | None:
    """`run(env)` against a new database `<db>_<suffix>` on MADOGUCHI_TEST_DATABASE_URL's server,
    dropped afterwards; None when no PostgreSQL is configured."""
    url = os.environ.get("MADOGUCHI_TEST_DATABASE_URL")
    if not url:
        return None
    import psycopg

    parsed = urlparse(url)
    name = f"{parsed.path.lstrip('/')}_{suffix}"
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        return run({"DATABASE_URL": urlunparse(parsed._replace(path="/" + name))})
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def django_on_throwaway_sqlite(prefix: str) -> str:
    """Set Django up in this process on a new SQLite database in a temp dir (migrated; any
    DATABASE_URL ignored), the way a page benchmark measures a single-machine deployment;
    returns the data dir."""
    data_dir = tempfile.mkdtemp(prefix=prefix)
    os.environ["MADOGUCHI_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "madoguchi.settings"
    os.environ.setdefault("MADOGUCHI_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def signed_in_client(username: str, **client_options: Any) -> Any:
    """A Django test client of a demo staff account past both sign-in steps, as every staff
    page requires (Django must be set up)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from madoguchi.staff.models import StaffUser

    user = StaffUser.objects.get(username=username)
    client = Client(**client_options)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session.save()
    return client
