"""The staff pages under `/staff/` (sign-in and the second factor are `madoguchi.staff.urls`).

Each area keeps its URL namespace (`counter_console:`, `issuance:`, `walkins:`, `forecasts:`),
so the names the templates reverse and the access matrix lists are the same wherever the
views live.
"""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("issuance/", include("madoguchi.staff_console.issuance.urls")),
    path("planning/", include("madoguchi.staff_console.forecasts.urls")),
    path("queue/", include("madoguchi.staff_console.walkins.urls")),
    path("", include("madoguchi.staff_console.counter.urls")),
]
