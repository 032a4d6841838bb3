"""URL sets by zone: the public site (internet) and the staff side (internal network).

`MADOGUCHI_ZONE` = all | public | staff selects which sets this deployment serves, so one
municipality can run the two halves as separate deployments of the same code.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from madoguchi.core.views import set_language
from madoguchi.public_urls import urlpatterns as public_urlpatterns

handler500 = (
    "madoguchi.core.middleware.server_error"  # 503 while the database is away; JSON in /api/
)

urlpatterns: list[URLPattern | URLResolver] = [
    # Django's language switch; a language not offered is refused with a message
    path("i18n/setlang/", set_language, name="set_language"),
]

if settings.ZONE in ("all", "public"):
    urlpatterns += public_urlpatterns

if settings.ZONE in ("all", "staff"):
    urlpatterns += [
        path("staff/", include("madoguchi.staff.urls")),  # sign-in and second factor
        path("staff/", include("madoguchi.staff_console.urls")),  # every staff page
        path("admin/", admin.site.urls),
    ]
