"""Middleware for the JSON API: its own short lane past the page middleware, and the promise
that every error is JSON, for the one ninja answers in plain text."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import resolve
from django.utils import translation

API_PREFIX = "/api/"


class JsonMethodNotAllowedMiddleware:
    """Turn the API's plain-text 405 into `{"error": "method_not_allowed", "message": …}`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and request.path_info.startswith(API_PREFIX):
            json = JsonResponse(
                {
                    "error": "method_not_allowed",
                    "message": "この操作はこのアドレスでは使えません。",
                },
                status=405,
                json_dumps_params={"ensure_ascii": False},
            )
            json["Allow"] = response.get("Allow", "")
            return json
        return response


class ApiLaneMiddleware:
    """API requests go straight to their view; pages continue down the middleware list.

    The public JSON API uses no cookie, session, signed-in user, flash message, page language or
    CSRF token (its views are CSRF-exempt: nothing ambient authenticates them), so the page
    middleware listed after this one would only cost time — 0.2–0.25 ms of CPU per request,
    measured in-process (decision 0009). Everything listed
    before it (security headers, static files, JSON 405s) applies to both. Messages are
    answered in the site's default language, whatever a previous request in this worker chose
    (a view may answer in a language its request names: a booking's or a walk-in ticket's
    `language`, api/public.py).

    An API view that ever needs a session or a signed-in user (a staff API with cookie sign-in)
    must move this lane's prefix or the middleware it needs above it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it for pages
        match = resolve(request.path_info)  # Resolver404 → the usual 404 handling
        request.resolver_match = match
        default = settings.LANGUAGE_CODE  # already active in most requests: nothing to switch
        active = translation.get_language() == default
        with nullcontext() if active else translation.override(default):
            response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        return response
