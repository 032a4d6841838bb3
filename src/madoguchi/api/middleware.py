"""Keep the API's promise that every error is JSON, for the one ninja answers in plain text."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"


class JsonMethodNotAllowedMiddleware:
    """Turn the API's plain-text 405 into `{"error": "method_not_allowed", "message": …}`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and request.path.startswith(API_PREFIX):
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
