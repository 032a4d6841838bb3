"""URL sets by zone: the public site (internet) and the staff side (internal network).

`MADOGUCHI_ZONE` = all | public | staff selects which sets this deployment serves, so one
municipality can run the two halves as separate deployments of the same code.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.ZONE in ("all", "public"):
    urlpatterns += [
        path("api/v1/", include("madoguchi.api.urls")),
        path("queue/", include("madoguchi.queue_board.urls")),
        path("", include("madoguchi.resident_site.urls")),
    ]

if settings.ZONE in ("all", "staff"):
    urlpatterns += [
        path("staff/issuance/", include("madoguchi.issuance.urls")),
        path("staff/planning/", include("madoguchi.forecasts.urls")),
        path("staff/queue/", include("madoguchi.walkins.urls")),
        path("staff/", include("madoguchi.counter_console.urls")),
        path("admin/", admin.site.urls),
    ]
