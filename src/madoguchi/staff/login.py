"""Staff sign-in: password (attempts limited before hashing), then the second factor — a code
from the authenticator app or a backup code — or, on the first sign-in, the app's enrolment.

Every step is an audit event (login, failed login, lockout, second factor, logout); the
session's sign-in and last-seen times are kept for `StaffLoginMiddleware`'s timeouts.
docs/staff-login.md describes the flow.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.core.ratelimit import client_ip
from madoguchi.staff import attempts, second_factor
from madoguchi.staff.models import Role, StaffUser

SIGNED_IN_AT = "staff_signed_in_at"
"""Session key: Unix time of the password step (the absolute maximum counts from it)."""
LAST_SEEN_AT = "staff_last_seen_at"
"""Session key: Unix time of the session's last staff request (the idle timeout)."""
SUBJECT = "staff.StaffUser"
ROLLUP_HOME = "/staff/planning/rollup/"
"""Where the roll-up role lands after signing in (its only staff page, `forecasts:rollup`)."""


def staff_session_max_seconds() -> int:
    from django.conf import settings

    return int(settings.MADOGUCHI_STAFF_SESSION_MAX_HOURS) * 3600


# --- audit events from Django's sign-in signals ----------------------------------------------


@receiver(user_logged_in)
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    now = clock.now().timestamp()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now
    request.session.set_expiry(staff_session_max_seconds())
    record_audit_event(
        actor=Actor.staff(user),
        action="staff.login",
        subject_type=SUBJECT,
        subject_id=user.pk,
        after={"address": client_ip(request), "second_factor": "pending"},
    )


@receiver(user_login_failed)
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A wrong password: the account (when the name is one) and the address, never what was
    typed — an unknown name may be a password typed into the wrong field."""
    username = str(credentials.get("username") or "")
    account = StaffUser.objects.filter(username=username).only("pk").first()
    address = client_ip(request) if request is not None else "unknown"
    record_audit_event(
        actor=Actor(f"client:{address}"),
        action="staff.login_failed",
        subject_type=SUBJECT,
        subject_id=account.pk if account is not None else "unknown",
        after={"address": address, "account_exists": account is not None},
    )


@receiver(user_logged_out)
def _signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    reason = getattr(request, "staff_logout_reason", "user") if request is not None else "user"
    record_audit_event(
        actor=Actor.staff(user),
        action="staff.logout",
        subject_type=SUBJECT,
        subject_id=user.pk,
        after={"reason": reason},
    )


# --- the password step -----------------------------------------------------------------------


class StaffLoginForm(RefusesIndividualNumbers, AuthenticationForm):
    """Django's login form with the attempt limits counted before the password is checked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("ユーザー名またはパスワードが違います。"),
        "inactive": gettext_lazy("このアカウントは使えません。"),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            if self.request is None:  # the limits are per client address
                raise ImproperlyConfigured("StaffLoginForm needs the request")
            attempt = attempts.count_attempt(self.request, username)
            if attempt.refused:  # no hashing at all
                raise ValidationError(attempt.message(), code="locked")
            self.user_cache = authenticate(self.request, username=username, password=password)
            if self.user_cache is None:
                account = StaffUser.objects.filter(username=username).only("pk").first()
                attempts.failed(attempt, account_id=account.pk if account else None)
                errors = [self.get_invalid_login_error()]
                if attempt.just_locked():
                    errors.append(ValidationError(attempt.message(), code="locked"))
                raise ValidationError(errors)
            attempts.succeeded(attempt)
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


def _next(request: HttpRequest) -> str:
    """The page to go to after the sign-in steps (same host only; default the staff home)."""
    from django.conf import settings

    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    if getattr(request.user, "role", None) == Role.ROLLUP:
        return ROLLUP_HOME  # the roll-up's staff have no other staff page (docs/access.md)
    return str(settings.LOGIN_REDIRECT_URL)


def step_url(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


class StaffLoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    form_class = StaffLoginForm
    redirect_authenticated_user = False

    def get_success_url(self) -> str:
        """After the password: the second factor (or its enrolment on the first sign-in)."""
        user = self.request.user
        target = _next(self.request)
        if isinstance(user, StaffUser) and second_factor.has_second_factor(user):
            return step_url("staff:otp", target)
        return step_url("staff:otp_enrol", target)


class StaffLogoutView(auth_views.LogoutView):
    next_page = "/staff/login/"


# --- the second factor -----------------------------------------------------------------------


class CodeForm(RefusesIndividualNumbers, forms.Form):
    code = forms.CharField(
        label=gettext_lazy("確認コード"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


def _signed_in_staff(request: HttpRequest) -> StaffUser:
    user = request.user
    if not isinstance(user, StaffUser) or not user.is_authenticated:
        raise PermissionDenied  # the middleware sends anonymous requests to the login page
    return user


def _verified(request: HttpRequest, user: StaffUser, device: Any) -> HttpResponseRedirect:
    request.session.cycle_key()  # a new session id once the sign-in is complete
    otp_login(request, device)
    return redirect(_next(request))


@never_cache
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step: a 6-digit code from the authenticator app, or a backup code."""
    user = _signed_in_staff(request)
    if getattr(user, "is_verified", lambda: False)():
        return redirect(_next(request))
    if not second_factor.has_second_factor(user):
        return redirect(step_url("staff:otp_enrol", _next(request)))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = second_factor.verify_second_factor(
            user, form.cleaned_data["code"], address=client_ip(request)
        )
        if outcome.device is not None:
            if outcome.backup_code:
                left = second_factor.remaining_backup_codes(user)
                messages.warning(
                    request,
                    ngettext(
                        "予備コードでログインしました（残り %(left)d 個）。",
                        "予備コードでログインしました（残り %(left)d 個）。",
                        left,
                    )
                    % {"left": left},
                )
            return _verified(request, user, outcome.device)
        if outcome.wait_seconds:
            form.add_error(
                "code",
                ngettext(
                    "コードの間違いが続いたため、%(seconds)d 秒待ってから入力してください。",
                    "コードの間違いが続いたため、%(seconds)d 秒待ってから入力してください。",
                    outcome.wait_seconds,
                )
                % {"seconds": outcome.wait_seconds},
            )
        else:
            form.add_error(
                "code",
                gettext(
                    "コードが違います。認証アプリに表示されている 6 桁の数字か、"
                    "予備コードを入力してください。"
                ),
            )
    return render(request, "staff/otp_verify.html", {"form": form, "next": _next(request)})


@never_cache
@require_http_methods(["GET", "POST"])
def otp_enrol(request: HttpRequest) -> HttpResponse:
    """First sign-in: register an authenticator app (secret, otpauth:// URI and a QR code),
    confirmed by one code from it."""
    user = _signed_in_staff(request)
    if second_factor.has_second_factor(user):
        return redirect(step_url("staff:otp", _next(request)))
    device = second_factor.pending_totp_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if second_factor.confirm_enrolment(user, device, form.cleaned_data["code"]):
            messages.success(
                request,
                gettext(
                    "認証アプリを登録しました。続けて予備コードを作り、安全な場所に控えてください。"
                ),
            )
            request.session.cycle_key()
            otp_login(request, device)
            return redirect(step_url("staff:backup_codes", _next(request)))
        form.add_error(
            "code",
            gettext("コードが違います。認証アプリに表示されている 6 桁の数字を入力してください。"),
        )
    uri = device.config_url
    qr = segno.make(uri, error="m").svg_inline(
        scale=4, title=gettext("認証アプリに読み取らせる QR コード"), svgclass="qr"
    )
    return render(
        request,
        "staff/otp_enrol.html",
        {
            "form": form,
            "next": _next(request),
            "secret": second_factor.secret_for_display(device),
            "uri": uri,
            "qr": mark_safe(qr),  # noqa: S308 segno's own SVG
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def backup_codes(request: HttpRequest) -> HttpResponse:
    """Backup codes: made on request, shown once on the answer to that request, each usable
    once; making new ones invalidates the old."""
    user = _signed_in_staff(request)
    codes: list[str] = []
    if request.method == "POST":
        codes = second_factor.new_backup_codes(user)
    return render(
        request,
        "staff/backup_codes.html",
        {
            "codes": [f"{c[:4]} {c[4:]}" for c in codes],
            "remaining": second_factor.remaining_backup_codes(user),
            "next": _next(request),
        },
    )
