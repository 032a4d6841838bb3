"""The JSON API at /api/v1 (django-ninja; OpenAPI at /api/v1/openapi.json).

Every error, including validation errors and unknown URLs, is JSON: `{"error": code,
"message": sentence}` (plus `details` for validation, `alternatives` for slot_full). The sentence
is in the resident's language: a booking's (`api/public.py`) or a walk-in ticket's
(`api/walkins.py`) once known, else the request's `language` (query or JSON body), else Japanese.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, path, re_path
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.types import DictStrAny

from madoguchi.api import public, walkins
from madoguchi.core.errors import DomainError
from madoguchi.core.individual_number import INDIVIDUAL_NUMBER_REFUSAL
from madoguchi.core.languages import requested_language
from madoguchi.core.middleware import (
    database_unavailable,
    is_transaction_conflict,
    transaction_conflict,
)
from madoguchi.core.ratelimit import RateLimited
from madoguchi.reservations.services import SlotFullError


class ReadableJSONRenderer(JSONRenderer):
    """UTF-8 JSON with Japanese as written, not as \\u escapes (the same data, readable
    in logs and by people debugging with curl)."""

    json_dumps_params = {"ensure_ascii": False}


UNSUPPORTED_MESSAGE = gettext_noop(
    "本文はJSONで、Content-Type: application/json を付けて送ってください。"
)
REPEATED_KEY_MESSAGE = gettext_noop(
    "本文に同じ項目「%(key)s」が2回以上あります。各項目は1回だけにしてください。"
)
_KEY_SHOWN = re.compile(r"[a-z_]{1,40}")
"""A repeated key is named when it could be one of the API's own (never echo anything else)."""


class BodyRefused(Exception):
    """A request body the API does not read; `http_error` answers with its status and code."""

    def __init__(self, status: int, code: str, message: str, **params: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.params = status, code, message, params


class JSONBodyParser(Parser):
    """Bodies are JSON, declared so (`application/json` or a `+json` type): a body under
    another Content-Type — `text/plain` or a form's, which a page elsewhere can post without
    asking — is refused with 415 instead of being read as JSON anyway; and an object that
    gives a key twice is refused (400 `repeated_key`) instead of silently keeping the last
    value, which another reader of the same body (a proxy, a log) may take differently."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        content_type = request.content_type or ""
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise BodyRefused(415, "unsupported_media_type", UNSUPPORTED_MESSAGE)
        body: dict[str, Any] = json.loads(request.body, object_pairs_hook=_each_key_once)
        return body


def _each_key_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):
        key = next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        shown = key if _KEY_SHOWN.fullmatch(key) else "…"
        raise BodyRefused(400, "repeated_key", REPEATED_KEY_MESSAGE, key=shown)
    return result


class DescribedOnceAPI(NinjaAPI):
    """The OpenAPI document (/api/v1/openapi.json) is built once per path prefix and kept for
    the process: it is made of the routes and their schemas alone, which do not change once
    the URLconf is loaded, and building it took ~40 ms of CPU per request (pydantic's JSON
    schema of every operation's models). The prefix is the API root's reversed path, so a
    municipality's door (`/m/<code>/`, offices.tenancy) gets its own. The kept document is
    shared: whoever asks for it reads it (ninja's view serialises it), nobody changes it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._described: dict[str, OpenAPISchema] = {}

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: DictStrAny | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        described = self._described.get(path_prefix)
        if described is None:
            described = super().get_openapi_schema(path_prefix=path_prefix)
            self._described[path_prefix] = described
        return described


api = DescribedOnceAPI(
    parser=JSONBodyParser(),
    renderer=ReadableJSONRenderer(),
    title="madoguchi API",
    version="1",
    description="予約・窓口の公開API。エラーは {error, message} のJSONで返します。",
    urls_namespace="api_v1",
    docs_url=None,  # the interactive docs load scripts from a CDN: not on municipal networks
)
api.add_router("/", public.router)
api.add_router("/", walkins.router)

logger = logging.getLogger(__name__)
NOT_FOUND_MESSAGE = gettext_noop("指定されたページまたはデータが見つかりません。")
INVALID_MESSAGE = gettext_noop("入力内容に誤りがあります。項目をご確認ください。")
BAD_REQUEST_MESSAGE = gettext_noop("リクエストの形式が正しくありません。")
UNAUTHENTICATED_MESSAGE = gettext_noop("ログインが必要です。")


def _not_found_body(request: HttpRequest) -> dict[str, str]:
    with translation.override(requested_language(request)):
        return {"error": "not_found", "message": gettext(NOT_FOUND_MESSAGE)}


def _field(loc: Any) -> str:
    parts = [str(p) for p in (loc or []) if p not in ("body", "query", "path", "payload")]
    return ".".join(parts) or "request"


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    body: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if isinstance(exc, SlotFullError):
        body["alternatives"] = [
            public.slot_out(s).model_dump(mode="json") for s in exc.alternatives
        ]
    response = api.create_response(request, body, status=exc.status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after_seconds)
    return response


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [
        {"field": _field(e.get("loc")), "message": str(e.get("msg", ""))[:200]} for e in exc.errors
    ]
    with translation.override(requested_language(request)):
        if any(e.get("type") == "individual_number" for e in exc.errors):
            body = {"error": "individual_number", "message": str(INDIVIDUAL_NUMBER_REFUSAL)}
            return api.create_response(request, {**body, "details": details}, status=422)
        message = gettext(INVALID_MESSAGE)
    return api.create_response(
        request, {"error": "invalid", "message": message, "details": details}, status=422
    )


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_unreachable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """503 with Retry-After while the database cannot be reached (core.middleware); the
    connection that failed is closed at the end of the request, the next one reconnects. A
    deadlock or serialization failure is 409 `try_again` instead (decision 0035)."""
    if is_transaction_conflict(exc):
        return transaction_conflict(request, exc)
    logger.warning("database unavailable: %s", exc)
    return database_unavailable(request)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, _not_found_body(request), status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    with translation.override(requested_language(request)):
        body = {"error": "unauthenticated", "message": gettext(UNAUTHENTICATED_MESSAGE)}
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    refused = exc.__cause__  # ninja wraps whatever the parser raised in a 400
    if isinstance(refused, BodyRefused):
        with translation.override(requested_language(request)):
            message = gettext(refused.message) % refused.params
        body = {"error": refused.code, "message": message}
        return api.create_response(request, body, status=refused.status)
    with translation.override(requested_language(request)):
        body = {"error": "bad_request", "message": gettext(BAD_REQUEST_MESSAGE)}
    return api.create_response(request, body, status=exc.status_code)


def unknown_path(request: HttpRequest, rest: str = "") -> JsonResponse:
    return JsonResponse(
        _not_found_body(request), status=404, json_dumps_params={"ensure_ascii": False}
    )


urlpatterns: list[URLPattern | URLResolver] = [
    path("", api.urls),
    re_path(r"^(?P<rest>.*)$", unknown_path),
]
