"""Typed helpers that read configuration from the environment.

Every helper names the variable in its error, so garbage in the environment stops start-up with a
message an operator can act on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class EnvError(ValueError):
    """A configuration variable holds a value that cannot be used."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(f"環境変数 {name} の値 {value!r} は使えません（{expected}）。")
        self.name = name


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    source = os.environ if environ is None else environ
    value = source.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """The variable as text, or `default` when unset or blank."""
    value = _raw(name, environ)
    return default if value is None else value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """The variable as a boolean (1/0, true/false, yes/no, on/off); raises EnvError otherwise."""
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(name, value, "true か false を指定してください")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """The variable as an integer inside [minimum, maximum]; raises EnvError otherwise."""
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(name, value, "整数を指定してください") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise EnvError(name, value, f"{minimum} から {maximum} までの整数を指定してください")
    return number


def env_choice(
    name: str, default: str, choices: tuple[str, ...], *, environ: Mapping[str, str] | None = None
) -> str:
    """The variable, which must be one of `choices`; raises EnvError otherwise."""
    value = _raw(name, environ)
    if value is None:
        return default
    if value not in choices:
        raise EnvError(name, value, " / ".join(choices) + " のいずれかを指定してください")
    return value


def env_list(
    name: str, default: list[str], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """A comma-separated list; blank items are dropped."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database_url(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """A database URL: `postgres://…`, `postgresql://…` or `sqlite:///path`."""
    value = _raw(name, environ)
    if value is None:
        return default
    if not value.startswith(("postgres://", "postgresql://", "sqlite:///")):
        raise EnvError(name, value, "postgres://… または sqlite:///パス の形で指定してください")
    if value.startswith("sqlite:") and (
        value.partition("?")[0] in ("sqlite:///", "sqlite:///:memory:") or "mode=memory" in value
    ):
        # An in-memory database is a new, empty one on every connection (each request, the audit
        # sealer's thread), and settings.py would make an empty file named ":memory:" here.
        raise EnvError(
            name, value, "SQLite はデータベースファイルのパス（sqlite:///パス）で指定してください"
        )
    return value


def env_secret(
    name: str, file_name: str, default: str, *, environ: Mapping[str, str] | None = None
) -> str:
    """A secret from `name`, or read from the file named by `file_name`; `default` when neither."""
    value = _raw(name, environ)
    if value is not None:
        return value
    path = _raw(file_name, environ)
    if path is None:
        return default
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise EnvError(file_name, path, f"ファイルを読めません: {error.strerror}") from None
    if not secret:
        raise EnvError(file_name, path, "ファイルが空です")
    return secret


def env_mapping(
    name: str, default: dict[str, str], *, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`key=value,key=value` pairs; a pair without `=` raises EnvError."""
    value = _raw(name, environ)
    if value is None:
        return dict(default)
    result: dict[str, str] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        key, sep, val = item.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise EnvError(name, value, "キー=値 をカンマで区切って指定してください")
        result[key.strip()] = val.strip()
    return result


def env_rate_limits(
    name: str, default: dict[str, tuple[int, int]], *, environ: Mapping[str, str] | None = None
) -> dict[str, tuple[int, int]]:
    """Rate limits as `scope=REQUESTS/SECONDS,…` (e.g. `notice=10/600`); `off` switches all off."""
    value = _raw(name, environ)
    if value is None:
        return dict(default)
    if value.lower() == "off":
        return {}
    limits = dict(default)
    for scope, spec in env_mapping(name, {}, environ=environ).items():
        requests, sep, seconds = spec.partition("/")
        if not sep or not requests.isdigit() or not seconds.isdigit() or int(seconds) == 0:
            raise EnvError(name, value, "scope=回数/秒 の形で指定してください（例 notice=10/600）")
        limits[scope] = (int(requests), int(seconds))
    return limits


def env_login_limits(
    name: str, default: dict[str, tuple[int, int]], *, environ: Mapping[str, str] | None = None
) -> dict[str, tuple[int, int]]:
    """Limits like `env_rate_limits` for exactly the scopes of `default`, which cannot be
    switched off (`off` and unknown scopes are refused)."""
    value = _raw(name, environ)
    if value is not None and value.lower() == "off":
        raise EnvError(name, value, "この制限は止められません")
    limits = env_rate_limits(name, default, environ=environ)
    unknown = sorted(set(limits) - set(default))
    if unknown or any(requests < 1 for requests, _ in limits.values()):
        raise EnvError(
            name, str(value), f"{', '.join(default)} に 1 以上の回数/秒 を指定してください"
        )
    return limits


def env_weights(
    name: str, default: dict[str, int], *, environ: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Integer weights as `key=N,…` (e.g. `cert_renewal=30,pin_reset=5`)."""
    weights = dict(default)
    for key, val in env_mapping(name, {}, environ=environ).items():
        if not val.isdigit():
            raise EnvError(name, str(_raw(name, environ)), "重みは0以上の整数で指定してください")
        weights[key] = int(val)
    return weights


def database_is_local(database_url: str) -> bool:
    """Whether the database runs on this machine: SQLite, or PostgreSQL on localhost, a
    loopback address or a Unix socket (`postgres:///db`, `?host=/run/postgresql`)."""
    if database_url.startswith("sqlite"):
        return True
    parsed = urlsplit(database_url)
    query_host = parse_qs(parsed.query).get("host", [""])[0]
    host = unquote(query_host or parsed.hostname or "")
    return host in ("", "localhost", "::1") or host.startswith(("/", "127."))


def default_workers(database_url: str, cores: int | None = None) -> int:
    """gunicorn sync workers for `madoguchi serve` when MADOGUCHI_WORKERS is unset.

    With the database on this machine, one per core: a third of each request's work is then the
    database's, on the same cores, so a worker waiting for it leaves its core to the database
    and more workers only pre-empt each other (measured: decision 0010). With a remote
    database the cores idle while workers wait on the network: twice the cores plus one,
    gunicorn's own rule of thumb.
    """
    count = cores if cores is not None else (os.cpu_count() or 1)
    return count if database_is_local(database_url) else 2 * count + 1
