"""Several municipalities on one deployment: which municipality a public request is for.

`MunicipalityMiddleware` sets `request.municipality` on every public request (docs/
municipalities.md, decision 0028):

- `/m/<municipality code>/…` — that municipality. The prefix is taken off `path_info` and
  added to the script prefix for the request, so every `reverse()` and `{% url %}` of the
  residents' pages, the queue pages and the API links back under the same prefix; the views
  below see the paths they always had.
- a host named in `MADOGUCHI_MUNICIPALITY_HOSTS` — its municipality, at the host's root.
- otherwise the deployment's only municipality (the single-municipality set-up: URLs as
  before). With several and none chosen, `/` lists their sites and every other public path
  is 404.

The staff side (`/staff/`, `/admin/`) is never under a municipality's prefix: staff are scoped
by their account (`staff.access`). Every public view reads its sites, slots, bookings, tickets
and kiosks through the request's municipality; `resident_url` builds the links that mails,
notices and slips carry to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, set_script_prefix

from madoguchi.core.links import public_url
from madoguchi.core.middleware import not_found
from madoguchi.offices.models import Municipality
from madoguchi.offices.selectors import municipalities_by_code

PATH = re.compile(r"^/m/(?P<code>[0-9]{6})(?=/|$)")
STAFF_PATHS = ("/staff/", "/admin/")
OPEN_WITHOUT_MUNICIPALITY = ("/i18n/", "/static/", "/api/v1/openapi.json")
"""Public paths that need no municipality even when several share the deployment."""


def municipalities() -> dict[str, Municipality]:
    """Every municipality by code (cached per process: `offices.selectors`)."""
    return municipalities_by_code()


def several() -> bool:
    """Whether this deployment holds more than one municipality."""
    return len(municipalities()) > 1


def resident_site_path(code: str) -> str:
    """The path of a municipality's residents' site on a deployment of several."""
    return f"/m/{code}/"


def _host_of(code: str) -> str | None:
    for host, mapped in settings.MUNICIPALITY_HOSTS.items():
        if mapped == code:
            return str(host)
    return None


def resident_base_url(municipality: Municipality | None) -> str:
    """Where `municipality`'s residents' site is seen from outside: its own host when it has
    one, else `MADOGUCHI_PUBLIC_BASE_URL` plus `/m/<code>` when several share the deployment,
    else `MADOGUCHI_PUBLIC_BASE_URL` itself."""
    base = str(settings.PUBLIC_BASE_URL).rstrip("/")
    if municipality is None:
        return base
    host = _host_of(municipality.code)
    if host is not None:
        return f"{urlsplit(base).scheme or 'https'}://{host}"
    if several():
        return base + resident_site_path(municipality.code).rstrip("/")
    return base


def resident_url(
    municipality: Municipality | None,
    viewname: str,
    *,
    kwargs: dict[str, Any] | None = None,
    **query: str,
) -> str:
    """`core.links.public_url` on `municipality`'s residents' site (mails, SMS, notices' QR
    codes, queue slips and kiosk activation links)."""
    return public_url(viewname, kwargs=kwargs, base=resident_base_url(municipality), **query)


class MunicipalityMiddleware:
    """Sets `request.municipality` (None on staff paths and when no municipality is chosen)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.municipality = None  # type: ignore[attr-defined]
        path = request.path_info
        if path.startswith(STAFF_PATHS) or path.startswith(OPEN_WITHOUT_MUNICIPALITY):
            return self.get_response(request)
        known = municipalities()
        match = PATH.match(path)
        if match is not None:
            return self._under_prefix(request, known.get(match["code"]), path[match.end() :])
        code = settings.MUNICIPALITY_HOSTS.get(request.get_host().lower().rsplit(":", 1)[0])
        if code is not None:
            request.municipality = known.get(code)  # type: ignore[attr-defined]
            if request.municipality is None:  # type: ignore[attr-defined]
                return not_found(request, path)
        elif len(known) == 1:
            request.municipality = next(iter(known.values()))  # type: ignore[attr-defined]
        elif known and path != "/":
            return not_found(request, path)  # `/` lists the municipalities (resident_site)
        return self.get_response(request)

    def _under_prefix(
        self, request: HttpRequest, municipality: Municipality | None, rest: str
    ) -> HttpResponse:
        rest = rest or "/"
        if municipality is None or rest.startswith(STAFF_PATHS):
            return not_found(request, rest)
        request.municipality = municipality  # type: ignore[attr-defined]
        request.path_info = rest
        outer = get_script_prefix()
        set_script_prefix(outer + resident_site_path(municipality.code).lstrip("/"))
        try:
            return self.get_response(request)
        finally:
            set_script_prefix(outer)
