"""What a clerk typed into a staff form is not lost when the session has run out meanwhile
(decision 0032). The form sent after the idle timeout (or the absolute maximum) signs out and
leads to the sign-in, then back to the page it was sent from (`middleware.return_to`); its
fields are kept in the new session (`keep`) and, on that page, the form starts from them again
(`core.forms.restoring`) with a message asking to check and send it again — nothing is sent on
the clerk's behalf.

Never kept: the CSRF token, passwords, one-time codes, tokens and secrets (by field name), the
second-factor steps' forms, buttons (`_save` …) and `next`, uploaded files (the message says to
choose them again), a form whose CSRF token does not check (another site's form cannot plant
input in a clerk's page), and any field holding an Individual Number (refused as every form
refuses it; the message says so). At most `MAX_KEPT_CHARACTERS` characters are kept: a longer
input is not kept at all. Only the member who sent the form gets it back, and only on the first
staff page after signing in again (any other page drops it).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext

from madoguchi.core.forms import KeptInput, holds_individual_number

SESSION_KEY = "staff_kept_input"
MAX_KEPT_CHARACTERS = 20_000
"""Field names and values together; more is not kept (the session is a database row)."""
NEVER_KEPT = re.compile(r"csrf|pass|otp|token|secret", re.IGNORECASE)
"""Field names whose values are never kept."""
NOT_INPUT = frozenset({"next"})


def _csrf_checks(request: HttpRequest) -> bool:
    """True when the form's CSRF token checks (as `CsrfViewMiddleware` checks every form)."""
    check = CsrfViewMiddleware(_not_called)
    return check.process_view(request, _not_called, (), {}) is None


def _not_called(request: HttpRequest) -> HttpResponse:
    raise AssertionError("the CSRF check only reads a view's csrf_exempt mark")


def keep(request: HttpRequest, *, member_id: Any, page: str) -> None:
    """Keep the fields of the form `request` sends for `member_id`, to be given back on `page`
    (called after the ended session was flushed: what is kept is all the new one holds)."""
    if request.method != "POST" or not _csrf_checks(request):
        return
    fields: dict[str, list[str]] = {}
    refused = False
    size = 0
    for name, values in request.POST.lists():
        if NEVER_KEPT.search(name) or name.startswith("_") or name in NOT_INPUT:
            continue
        if holds_individual_number(values):
            refused = True
            continue
        size += len(name) + sum(len(value) for value in values)
        fields[name] = values
    if size > MAX_KEPT_CHARACTERS or not fields:
        return
    request.session[SESSION_KEY] = {
        "member": member_id,
        "page": page,
        "fields": fields,
        "files": bool(request.FILES),
        "refused": refused,
    }


def given_back(request: HttpRequest) -> KeptInput | None:
    """The input kept for this member and this page, taken out of the session (it is given back
    once; another page, or another member, drops it)."""
    kept = request.session.pop(SESSION_KEY, None)
    if not isinstance(kept, dict) or request.method != "GET":
        return None
    if kept.get("member") != request.user.pk or kept.get("page") != request.get_full_path():
        return None
    data = QueryDict(mutable=True)
    for name, values in dict(kept.get("fields") or {}).items():
        data.setlist(str(name), [str(value) for value in values])

    def restored() -> None:
        messages.info(
            request,
            gettext(
                "ログアウトの前に入力された内容をフォームに戻しました。確かめてから、もう一度送信してください。"
            ),
        )
        if kept.get("files"):
            messages.warning(
                request, gettext("添付したファイルは保存していません。もう一度選んでください。")
            )
        if kept.get("refused"):
            messages.warning(request, gettext("個人番号と思われる入力は保存していません。"))

    return KeptInput(data=data, on_restored=restored)
