"""The staff zone's door: every page under /staff/ and /admin/ needs a signed-in staff member
whose second factor is verified, and a staff session ends after an idle time and at an
absolute maximum (`MADOGUCHI_STAFF_IDLE_MINUTES`, `MADOGUCHI_STAFF_SESSION_MAX_HOURS`).

Installed after django-otp's OTPMiddleware and the messages middleware. Only the sign-in steps
themselves are open: the login and logout pages to anybody, the second-factor pages to a
member who has passed the password step. docs/staff-login.md.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext

from madoguchi.core import clock
from madoguchi.core.forms import restoring
from madoguchi.staff import kept_input, second_factor
from madoguchi.staff.login import LAST_SEEN_AT, SIGNED_IN_AT, step_url
from madoguchi.staff.models import StaffUser

STAFF_PREFIXES = ("/staff/", "/admin/")
"""The staff zone's URL prefixes (urls.py mounts every staff page under one of them)."""

SEEN_RESOLUTION_SECONDS = 60
"""The last-seen time is written at most once a minute (a session write per page otherwise): the
idle timeout holds to within this."""


@cache
def _open_paths() -> frozenset[str]:
    return frozenset({reverse("staff:login"), reverse("staff:logout")})


@cache
def _second_factor_paths() -> frozenset[str]:
    return frozenset({reverse("staff:otp"), reverse("staff:otp_enrol")})


def expiry_reason(request: HttpRequest) -> str | None:
    """ "idle" or "max_age" when the signed-in session has run out, else None. A session without
    the sign-in times (made before they were kept) counts as expired."""
    session = request.session
    now = clock.now().timestamp()
    signed_in_at = session.get(SIGNED_IN_AT)
    last_seen_at = session.get(LAST_SEEN_AT)
    if not isinstance(signed_in_at, int | float) or not isinstance(last_seen_at, int | float):
        return "max_age"
    if now - signed_in_at >= settings.MADOGUCHI_STAFF_SESSION_MAX_HOURS * 3600:
        return "max_age"
    if now - last_seen_at >= settings.MADOGUCHI_STAFF_IDLE_MINUTES * 60:
        return "idle"
    return None


def return_to(request: HttpRequest) -> str:
    """Where the sign-in leads back to: the page asked for; for a form sent (POST) the page it
    was sent from — a form's own address (`…/act/`) answers only a POST, its GET after the
    sign-in would be a bare 405 — when that is a staff page of this host, else the staff home."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = str(request.META.get("HTTP_REFERER", ""))
    came_from = urlsplit(referer)
    if (
        referer
        and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()})
        and came_from.path.startswith(STAFF_PREFIXES)
    ):
        return came_from.path + (f"?{came_from.query}" if came_from.query else "")
    return str(settings.LOGIN_REDIRECT_URL)


class StaffLoginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        in_staff_zone = settings.ZONE != "public" and path.startswith(STAFF_PREFIXES)
        user = request.user
        if user.is_authenticated:
            reason = expiry_reason(request)
            if reason is not None:
                request.staff_logout_reason = reason  # type: ignore[attr-defined]  # for the logout event
                member_id = user.pk
                logout(request)
                if in_staff_zone and path not in _open_paths():
                    back_to = return_to(request)
                    if path not in _second_factor_paths():
                        kept_input.keep(request, member_id=member_id, page=back_to)
                    messages.info(
                        request,
                        gettext("操作のない時間が続いたため、ログアウトしました。")
                        if reason == "idle"
                        else gettext("ログインの有効時間が過ぎたため、ログアウトしました。"),
                    )
                    return redirect(step_url("staff:login", back_to))
            else:
                now = clock.now().timestamp()
                if now - request.session[LAST_SEEN_AT] >= SEEN_RESOLUTION_SECONDS:
                    request.session[LAST_SEEN_AT] = now
        if not in_staff_zone or path in _open_paths():
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated or not isinstance(user, StaffUser):
            return redirect(step_url("staff:login", return_to(request)))
        if path in _second_factor_paths():
            return self.get_response(request)
        if not user.is_verified():  # type: ignore[attr-defined]  # django-otp's OTPMiddleware adds it
            if second_factor.has_second_factor(user):
                return redirect(step_url("staff:otp", return_to(request)))
            return redirect(step_url("staff:otp_enrol", return_to(request)))
        if kept_input.SESSION_KEY in request.session:
            kept = kept_input.given_back(request)
            if kept is not None:
                with restoring(kept):
                    return self.get_response(request)
        return self.get_response(request)
