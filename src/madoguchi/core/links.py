"""Absolute links into the public site, from any deployment (`MADOGUCHI_PUBLIC_BASE_URL`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode

PUBLIC_URLCONF = "madoguchi.public_urls"


def public_url(viewname: str, *, kwargs: dict[str, Any] | None = None, **query: str) -> str:
    """`viewname` of the public site as an absolute URL, with `query` as its query string.

    Reversed against the public URLconf, not the deployment's own: a staff-zone deployment does
    not serve the residents' pages but its mails and slips must link to them.
    """
    path = reverse(viewname, urlconf=PUBLIC_URLCONF, kwargs=kwargs)
    suffix = f"?{urlencode(query)}" if query else ""
    return str(settings.PUBLIC_BASE_URL).rstrip("/") + path + suffix
