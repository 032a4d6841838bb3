"""Views every zone shares."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, except that a language not offered (settings.LANGUAGES) is
    refused with a message instead of silently ignored; nothing is stored for it."""
    code = request.POST.get("language", "")
    if code in dict(settings.LANGUAGES):
        return django_set_language(request)
    messages.error(request, gettext("その言語は選べません。一覧から選んでください。"))
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return HttpResponseRedirect(target)
