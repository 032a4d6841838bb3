"""Middleware every answer passes: the Content-Security-Policy, and clean refusals instead of
500s — NUL bytes (PostgreSQL cannot store them, SQLite would), oversized bodies (413), an
unreachable database (503 with Retry-After) and a transaction the database undid to break a
deadlock or keep it serializable (409 `try_again`, decision 0035). Under /api/ every refusal is JSON
(`{"error", "message"}`, CONTRACT); pages get a short page in the visitor's language.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import activate, get_language, gettext, gettext_noop

from madoguchi.core.languages import is_staff_path, requested_language

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 30
"""What a client is told to wait while the database is unreachable (a restart takes seconds)."""

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
"""Errors that mean "the database cannot be reached now" rather than a bug or bad input —
except a transaction conflict (`is_transaction_conflict`), which is an OperationalError too."""


def is_transaction_conflict(error: BaseException | None) -> bool:
    """A deadlock or a serialization failure: SQLSTATE class 40 (transaction rollback) —
    PostgreSQL undid the whole transaction to break a cycle of waits or keep a serializable
    snapshot. The database is there and nothing the transaction wrote stayed: the person is
    asked to send the same again (409 `try_again`), not to wait for a database that is away,
    and the log gets an error with the stack, since it names a lock order to put right
    (decision 0035)."""
    if not isinstance(error, OperationalError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("40")


logger = logging.getLogger(__name__)

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ContentSecurityPolicyMiddleware:
    """`Content-Security-Policy` (settings.CONTENT_SECURITY_POLICY) on every answer that has
    none: only this site's own scripts, styles and images, no inline script or style."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy: str = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class StaffLanguageMiddleware:
    """Staff pages are Japanese or English (settings.STAFF_LANGUAGES): a language chosen on the
    residents' pages that staff pages have no catalogue for shows them in Japanese
    (docs/languages.md)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_staff_path(request.path) and get_language() not in settings.STAFF_LANGUAGES:
            activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return self.get_response(request)


def refusal_json(status: int, code: str, message: str) -> JsonResponse:
    """The API's refusal: `{"error", "message"}` (docs/contract.md)."""
    return JsonResponse(
        {"error": code, "message": message},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def refusal(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    """A refusal in the shape the path expects: JSON under /api/, else a small page."""
    if request.path_info.startswith(API_PREFIX):  # also under /m/<code>/ (offices.tenancy)
        response: HttpResponse = refusal_json(status, code, message)
    else:
        page = render_to_string("error.html", {"status": status, "message": message})
        response = HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@contextmanager
def _in_visitor_language(request: HttpRequest) -> Iterator[None]:
    """The visitor's language (cookie, then Accept-Language, as LocaleMiddleware chooses it;
    staff pages Japanese or English) while a refusal is written: the guard runs before
    LocaleMiddleware has chosen it. The API answers in Japanese (docs/contract.md)."""
    if request.path_info.startswith(API_PREFIX):
        yield
        return
    language = translation.get_language_from_request(request)
    if is_staff_path(request.path) and language not in settings.STAFF_LANGUAGES:
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        yield


def nul_byte_refusal(request: HttpRequest) -> HttpResponse:
    with _in_visitor_language(request):
        return refusal(
            request,
            400,
            "invalid_character",
            gettext("入力に使えない文字（NUL文字）が含まれています。入力内容をご確認ください。"),
        )


def too_large_refusal(request: HttpRequest) -> HttpResponse:
    limit_kb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    with _in_visitor_language(request):
        return refusal(
            request,
            413,
            "request_too_large",
            gettext("送信されたデータが大きすぎます（上限 %(limit)s KB）。") % {"limit": limit_kb},
        )


def bad_request_refusal(request: HttpRequest) -> HttpResponse:
    with _in_visitor_language(request):
        return refusal(request, 400, "bad_request", gettext("リクエストの形式が正しくありません。"))


NOT_FOUND_API_MESSAGE = gettext_noop("指定されたページまたはデータが見つかりません。")


def not_found(request: HttpRequest, path: str) -> HttpResponse:
    """404 for `path` answered before any view (`offices.tenancy`: a public path that names no
    municipality, or one the deployment does not have) as a view's 404 is answered: JSON under
    /api/ in the request's `language`, else the site's 404 page (`templates/404.html`, with its
    way back) in the visitor's language."""
    if path.startswith(API_PREFIX):
        with translation.override(requested_language(request)):
            return refusal_json(404, "not_found", gettext(NOT_FOUND_API_MESSAGE))
    with _in_visitor_language(request):
        page = render_to_string("404.html")
    return HttpResponse(page, status=404, content_type="text/html; charset=utf-8")


def database_unavailable(request: HttpRequest) -> HttpResponse:
    with _in_visitor_language(request):
        return refusal(
            request,
            503,
            "service_unavailable",
            gettext(
                "ただいまシステムを利用できません。%(seconds)s秒ほど待ってから、もう一度お試しください。"
            )
            % {"seconds": RETRY_AFTER_SECONDS},
        )


def transaction_conflict(request: HttpRequest, error: BaseException) -> HttpResponse:
    logger.error("transaction conflict (deadlock or serialization failure)", exc_info=error)
    with _in_visitor_language(request):
        return refusal(
            request,
            409,
            "try_again",
            gettext(
                "ほかの操作と同時に処理が重なったため、完了できませんでした。何も変更されていません。"
                "もう一度お試しください。"
            ),
        )


def database_error(request: HttpRequest, error: BaseException) -> HttpResponse | None:
    """The answer to a database error a view raised: a transaction conflict (409, try again
    now) or the database away (503, wait); None for anything else."""
    if is_transaction_conflict(error):
        return transaction_conflict(request, error)
    if isinstance(error, DATABASE_UNAVAILABLE):
        logger.warning("database unavailable", exc_info=error)
        return database_unavailable(request)
    return None


def _holds_nul(values: list[str]) -> bool:
    return any("\x00" in value for value in values)


class RequestGuardMiddleware:
    """Refuses, before any view or database sees them, requests that could only end in a 500:

    * a NUL byte anywhere in the path, the query, a form field, a JSON body (raw or as the
      escape \\u0000) or a cookie → 400 `invalid_character` (PostgreSQL cannot store NUL and
      psycopg raises on it; SQLite would store it: the same answer on both);
    * a form (`application/x-www-form-urlencoded`) that names another charset than UTF-8,
      which Django refuses to read → 400 `bad_request`, as a page (it came out as a 500);
    * a body over DATA_UPLOAD_MAX_MEMORY_SIZE (file uploads: their own limit) → 413
      `request_too_large`, decided from Content-Length before the body is read;
    * the database unreachable while a page view runs → 503 `service_unavailable` with
      Retry-After (`server_error`, the handler500, gives the same answer for the API lane and
      the middleware). The broken connection is dropped at the end of the request (Django
      closes a connection that saw an error), so the next request reconnects by itself;
    * a deadlock or serialization failure → 409 `try_again`: nothing was changed, send it
      again (`is_transaction_conflict`, decision 0035).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return database_error(request, exception)

    def _refuse(self, request: HttpRequest) -> HttpResponse | None:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return nul_byte_refusal(request)
        if _holds_nul(list(request.COOKIES.values())):
            return nul_byte_refusal(request)
        if request.method not in _BODY_METHODS:
            return None
        content_type = request.content_type or ""
        try:
            if content_type.startswith("multipart/"):
                # files are streamed to disk under their own limit; fields are checked here
                fields = [v for _, values in request.POST.lists() for v in values]
                return nul_byte_refusal(request) if _holds_nul(fields) else None
            length = int(request.META.get("CONTENT_LENGTH") or 0)
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return too_large_refusal(request)
            body = request.body
        except RequestDataTooBig:
            return too_large_refusal(request)
        except (TooManyFieldsSent, MultiPartParserError, SuspiciousOperation, ValueError):
            return bad_request_refusal(request)
        if b"\x00" in body or b"\\u0000" in body or b"%00" in body:
            return nul_byte_refusal(request)
        if content_type == "application/x-www-form-urlencoded":
            try:
                request.POST  # noqa: B018 — parsed here once; the views read the same QueryDict
            except (BadRequest, TooManyFieldsSent):
                # A form declared in another charset than UTF-8 (Django refuses it, and its
                # refusal reached the visitor as a 500 page); too many fields.
                return bad_request_refusal(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an unreachable database is a 503 with Retry-After; under /api/ every error is
    JSON; a page otherwise. Django calls it while the exception is being handled."""
    error = sys.exc_info()[1]
    if is_transaction_conflict(error):
        assert error is not None
        return transaction_conflict(request, error)
    if isinstance(error, DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    return refusal(
        request,
        500,
        "server_error",
        gettext(
            "申し訳ありません。システムでエラーが起きました。時間をおいてもう一度お試しください。"
        ),
    )
