from typing import Any

from django.conf import settings
from django.http import HttpRequest

from madoguchi.core.languages import is_staff_path


def zone(request: HttpRequest) -> dict[str, Any]:
    """Which URL sets this deployment serves, for templates that link across zones."""
    return {
        "serves_public": settings.ZONE in ("all", "public"),
        "serves_staff": settings.ZONE in ("all", "staff"),
    }


def languages(request: HttpRequest) -> dict[str, Any]:
    """The language switch's choices, each language named in its own language. Staff pages
    offer Japanese and English only (settings.STAFF_LANGUAGES, docs/languages.md)."""
    staff = is_staff_path(request.path)
    return {
        "language_choices": [
            (code, name)
            for code, name in settings.LANGUAGES
            if not staff or code in settings.STAFF_LANGUAGES
        ]
    }
