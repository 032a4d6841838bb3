"""Absolute links into the public site, from any deployment (`MADOGUCHI_PUBLIC_BASE_URL`)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.urls import get_script_prefix, reverse
from django.utils.http import urlencode

PUBLIC_URLCONF = "madoguchi.public_urls"
BASE_URL_VARIABLE = "MADOGUCHI_PUBLIC_BASE_URL"


def public_url(
    viewname: str, *, kwargs: dict[str, Any] | None = None, base: str | None = None, **query: str
) -> str:
    """`viewname` of the public site as an absolute URL, with `query` as its query string.

    Reversed against the public URLconf, not the deployment's own: a staff-zone deployment does
    not serve the residents' pages but its mails and slips must link to them. `base` replaces
    `MADOGUCHI_PUBLIC_BASE_URL` (one municipality's site among several: `offices.tenancy`).
    """
    # the path from the site's root: a request's own script prefix (a municipality's /m/<code>/
    # while one of its pages is answered) is not part of it
    path = (
        "/" + reverse(viewname, urlconf=PUBLIC_URLCONF, kwargs=kwargs)[len(get_script_prefix()) :]
    )
    suffix = f"?{urlencode(query)}" if query else ""
    root = str(settings.PUBLIC_BASE_URL if base is None else base).rstrip("/")
    return root + path + suffix


def follow_server_port(*, host: str, port: int) -> str:
    """Point links at the server about to start on `host:port` when the deployment has not set
    `MADOGUCHI_PUBLIC_BASE_URL` (a demo on another port must not link to :8000); returns the base.

    The variable is set in the environment too, so the server's workers read the same address.
    """
    if os.environ.get(BASE_URL_VARIABLE, "").strip():
        return str(settings.PUBLIC_BASE_URL)
    reachable = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 — compared, not bound
    shown = f"[{reachable}]" if ":" in reachable else reachable
    base = f"http://{shown}:{port}"
    os.environ[BASE_URL_VARIABLE] = base
    settings.PUBLIC_BASE_URL = base
    return base
