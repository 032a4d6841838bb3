"""Every page of the staff zone (/staff/…, /admin/…), generated from the URLconf: anonymous
requests go to the login page, a member who has only passed the password step goes to the
second-factor step (or its enrolment), for every method; only the sign-in steps are open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.staff.middleware import STAFF_PREFIXES
from madoguchi.staff.models import StaffUser
from tests.conftest import login_staff
from tests.issuance import factories
from tests.personas import shared_handler

pytestmark = pytest.mark.django_db

SIGN_IN_STEPS = {"/staff/login/", "/staff/logout/", "/staff/otp/", "/staff/otp/enrol/"}
SAMPLE = {"int": "1", "str": "ABCDEFGHJK", "slug": "x", "path": "x/y", "uuid": "0" * 32}


def _paths(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    """One concrete path per URL pattern, every converter filled with a sample value."""
    for entry in patterns:
        route = str(entry.pattern)
        if route.startswith("^"):  # the admin's regex patterns
            route = route.strip("^$").replace("\\Z", "")
            if "(?P" in route or "(" in route:
                route = route.split("(")[0] + "1/"
        for kind, value in SAMPLE.items():
            while f"<{kind}:" in route:
                start = route.index(f"<{kind}:")
                route = route[:start] + value + route[route.index(">", start) + 1 :]
        while "<" in route:  # <name> without a converter is a str
            start = route.index("<")
            route = route[:start] + SAMPLE["str"] + route[route.index(">", start) + 1 :]
        if isinstance(entry, URLResolver):
            yield from _paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + route


STAFF_PATHS = sorted(
    {p for p in _paths(get_resolver().url_patterns) if p.startswith(STAFF_PREFIXES)} - SIGN_IN_STEPS
)


def test_the_generated_list_covers_each_staff_area() -> None:
    for expected in (
        "/staff/",
        "/staff/sites/1/",
        "/staff/issuance/",
        "/staff/planning/",
        "/staff/queue/",
        "/staff/otp/backup-codes/",
        "/admin/",
        "/admin/staff/staffuser/",
    ):
        assert expected in STAFF_PATHS, expected
    assert len(STAFF_PATHS) > 40


@pytest.fixture
def password_only(db: None) -> tuple[str, str]:
    """Two members past the password step only: one with an authenticator app, one without —
    signed in once (each sign-in is a session, an audit event and a last-login write); each
    path's requests come from clients of their own carrying these sessions."""
    from django.conf import settings

    with_app = StaffUser.objects.create_user("with-app", password="x", is_superuser=True)
    TOTPDevice.objects.create(user=with_app, name="app", confirmed=True)
    without = StaffUser.objects.create_user("without", password="x", is_superuser=True)
    sessions = []
    for user in (with_app, without):
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return sessions[0], sessions[1]


def _client() -> Client:
    """A fresh client (no cookies) on the process's one request handler
    (`tests.personas.shared_handler`): each of this test's ~1,100 requests comes from a new
    client, and each new client's handler would build the middleware chain again."""
    from django.conf import settings

    client = Client()
    client.handler = shared_handler(tuple(settings.MIDDLEWARE))
    return client


def _carrying(session: str) -> Client:
    from django.conf import settings

    client = _client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session
    return client


def test_every_staff_page_needs_the_second_factor(password_only: tuple[str, str]) -> None:
    """Every path of `STAFF_PATHS`, GET and POST: the member with an app goes to the second
    factor, the one without to its enrolment, an anonymous visitor to the login; every path
    that answers otherwise is reported."""
    failures: list[str] = []
    for path in STAFF_PATHS:
        failures += _needs_the_second_factor(path, *password_only)
    assert not failures, "\n".join(failures)


def _needs_the_second_factor(path: str, with_app: str, without: str) -> list[str]:
    failures = []
    # A page asked for is the way back; a form sent (POST) leads back to the page it was sent
    # from (its Referer, here the staff home), since its own address may answer only a POST.
    for method, headers, back_to in (
        ("get", {}, path),
        ("post", {"HTTP_REFERER": "http://testserver/staff/"}, "/staff/"),
    ):
        expected_next = quote(back_to, safe="")
        for who, client, step in (
            ("with an app", _carrying(with_app), "otp"),
            ("without an app", _carrying(without), "otp/enrol"),
            ("anonymous", _client(), "login"),
        ):
            answer = getattr(client, method)(path, **headers)
            location = answer.get("Location")
            wanted = f"/staff/{step}/?next={expected_next}"
            if answer.status_code != 302 or location != wanted:
                failures.append(
                    f"{method.upper()} {path} {who}: {answer.status_code} to {location!r}, "
                    f"not 302 to {wanted!r}"
                )
    return failures


def test_with_the_second_factor_the_pages_open(db: None) -> None:
    """Negative control for the test above: the same member, verified, gets the page."""
    user = StaffUser.objects.create_superuser(
        "verified", password="x", municipality=factories.municipality()
    )
    client = Client()
    login_staff(client, user)
    assert client.get("/staff/").status_code == 200
    assert client.get("/admin/").status_code == 200
    assert client.get("/staff/otp/backup-codes/").status_code == 200
