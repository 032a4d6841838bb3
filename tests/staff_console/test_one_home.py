"""Every staff page lives in one interface app, `staff_console` (decision 0020); the sign-in
pages are the `staff` app's own (accounts and the access rule), the admin is Django's with the
project's ModelAdmins. The domain apps hold no views. Read from the URLconf every deployment
serves, so a page mounted from anywhere else fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

import madoguchi

PACKAGE = Path(madoguchi.__file__).parent
DOMAIN_APPS = ("core", "offices", "staff", "issuance", "reservations", "walkins", "forecasts")
VIEW_MARKS = re.compile(
    r"@staff_view|@require_(?:http_methods|POST|GET|safe)|\.as_view\(|"
    r"class \w+\((?:\w+\.)*(?:View|TemplateView|FormView|LoginView|LogoutView)\)"
)
VIEWS_KEPT_BY_DOMAIN_APPS = {
    "core/views.py": "the language switch every page links to (both zones)",
    "staff/login.py": "the sign-in and second-factor pages (decision 0020: accounts and sign-in)",
    "staff/urls.py": "mounts those sign-in pages under /staff/",
}


def _routes(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """(route, module of its view) for every URL pattern."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            view = getattr(pattern.callback, "view_class", pattern.callback)
            yield prefix + str(pattern.pattern), view.__module__


def _owner(route: str, module: str) -> str | None:
    """Why `module` may serve `route`, or None."""
    if route.startswith("staff/"):
        if module.startswith("madoguchi.staff_console."):
            return "staff_console"
        return "sign-in" if module == "madoguchi.staff.login" else None
    if route.startswith("admin/"):
        if module.startswith("django."):
            return "django admin"
        return "a ModelAdmin's own page" if module.endswith(".admin") else None
    if route.startswith("api/"):
        return "api" if not module.startswith("madoguchi.") or ".api." in module else None
    for app in ("resident_site", "queue_board"):
        if module.startswith(f"madoguchi.{app}."):
            return app
    return "language switch" if module == "madoguchi.core.views" else None


def test_every_page_is_served_by_its_interface_app() -> None:
    routes = list(_routes(get_resolver().url_patterns))
    staff = [r for r, m in routes if r.startswith("staff/") and m.startswith("madoguchi.staff_")]
    assert len(staff) > 30  # the walk sees the staff console
    assert [(r, m) for r, m in routes if _owner(r, m) is None] == []


def test_the_domain_apps_hold_no_views() -> None:
    found = {
        path.relative_to(PACKAGE).as_posix()
        for app in DOMAIN_APPS
        for path in (PACKAGE / app).rglob("*.py")
        if "migrations" not in path.parts
        and ("views" in path.stem or VIEW_MARKS.search(path.read_text(encoding="utf-8")))
    }
    assert found <= set(VIEWS_KEPT_BY_DOMAIN_APPS), found - set(VIEWS_KEPT_BY_DOMAIN_APPS)


def test_the_walk_would_refuse_a_staff_page_of_a_domain_app() -> None:
    assert _owner("staff/cards/", "madoguchi.issuance.views") is None
    assert _owner("staff/queue/", "madoguchi.walkins.views") is None
    assert _owner("book/", "madoguchi.reservations.views") is None
    assert _owner("staff/", "madoguchi.staff_console.counter.views") == "staff_console"
    assert VIEW_MARKS.search("@staff_view(Action.COUNTER)\ndef page(request): ...")
    assert VIEW_MARKS.search("class Page(generic.TemplateView):")
