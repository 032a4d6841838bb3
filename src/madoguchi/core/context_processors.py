from typing import Any

from django.conf import settings
from django.http import HttpRequest


def zone(request: HttpRequest) -> dict[str, Any]:
    """Which URL sets this deployment serves, for templates that link across zones."""
    return {
        "serves_public": settings.ZONE in ("all", "public"),
        "serves_staff": settings.ZONE in ("all", "staff"),
    }
