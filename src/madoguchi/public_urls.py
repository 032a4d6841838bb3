"""The public site's URLs (internet zone): served by `urls.py` where `MADOGUCHI_ZONE` is `all` or
`public`, and used on every deployment to build links to the public site (`core.links`) — the
staff zone sends mails and prints slips that point there without serving those pages itself.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include("madoguchi.api.urls")),
    path("queue/", include("madoguchi.queue_board.urls")),
    path("", include("madoguchi.resident_site.urls")),
]
