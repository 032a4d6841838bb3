"""The hand-over screen (交付): the card record's name, kana, birth date and address beside the
form, to compare with the ID the visitor shows; then one service call.

The form only parses; `walkins.visits.hand_over_card_at_visit` — one service call — decides and
moves the card, the visitor's queue ticket and the reservation together (one visit), including
the officials-only steps the municipality keeps (a 403 from it is the refusal page). Any other
refusal shows the screen again with the message and everything typed kept; nothing changes.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.issuance.models import (
    ECertificates,
    IdDocument,
    OldCard,
    PinSetting,
    ProxyDocument,
    ProxyReason,
)
from madoguchi.issuance.selectors import card_of_booking
from madoguchi.issuance.services import HandOverChecks
from madoguchi.offices.models import ProcedureCode
from madoguchi.staff import access
from madoguchi.staff.access import Action, staff_view
from madoguchi.staff_console.counter.selectors import Visit
from madoguchi.staff_console.counter.views import _reservation, _staff
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.visits import hand_over_card_at_visit


class HandOverForm(RefusesIndividualNumbers, forms.Form):
    """What the counter checked. Fixed choices only: no free text that could carry personal
    data. The rules between the answers (photo ID or two documents, proxy documents, PINs) are
    the service's (`HandOverChecks.problems`)."""

    is_proxy = forms.TypedChoiceField(
        label=_("受け取る人"),
        choices=[("0", _("ご本人")), ("1", _("代理人"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("ご本人か代理人かを選んでください。")},
    )
    id_documents = forms.MultipleChoiceField(
        label=_("確認した本人確認書類（写真付き1点、または写真なし2点）"),
        choices=IdDocument.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("確認した本人確認書類を選んでください。")},
    )
    proxy_reason = forms.ChoiceField(
        label=_("代理の理由"),
        choices=[("", _("（代理人のときに選ぶ）")), *ProxyReason.choices],
        required=False,
        error_messages={"invalid_choice": _("代理の理由を一覧から選んでください。")},
    )
    proxy_documents = forms.MultipleChoiceField(
        label=_("代理人の書類（代理人のとき、すべて確認）"),
        choices=ProxyDocument.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    old_card = forms.ChoiceField(
        label=_("旧カード"),
        choices=OldCard.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("旧カードの扱いを選んでください。")},
    )
    pin_setting = forms.ChoiceField(
        label=_("暗証番号"),
        choices=PinSetting.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("暗証番号の設定を選んでください。")},
    )
    e_certificates = forms.ChoiceField(
        label=_("電子証明書"),
        choices=ECertificates.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("電子証明書の発行について選んでください。")},
    )
    identity_checked = forms.BooleanField(
        label=_("券面の氏名・生年月日・住所と本人確認書類が一致することを確認しました"),
        error_messages={"required": _("本人確認を行ってから「交付する」を押してください。")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("is_proxy") and not data.get("proxy_reason"):
            self.add_error(
                "proxy_reason", _("代理人に交付するときは、代理の理由を選んでください。")
            )
        if data.get("is_proxy") is False:
            data["proxy_reason"] = ""
        return data

    def checks(self) -> HandOverChecks:
        data = self.cleaned_data
        return HandOverChecks(
            is_proxy=data["is_proxy"],
            id_documents=tuple(data["id_documents"]),
            old_card=data["old_card"],
            pin_setting=data["pin_setting"],
            e_certificates=data["e_certificates"],
            proxy_reason=data["proxy_reason"],
            proxy_documents=tuple(data["proxy_documents"]),
        )


@staff_view(Action.HAND_OVER)
@require_http_methods(["GET", "POST"])
def hand_over(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the screen; POST: hand the card over, closing the visit (card, ticket, booking).

    Who may: the access rule (403) — the site, and the judgements the municipality keeps for
    its officials (a contractor is refused there, for a proxy also the proxy's eligibility).
    """
    reservation = _reservation(
        request, code, Action.HAND_OVER, "procedure", "slot__site__municipality"
    )
    site = reservation.slot.site
    kept = access.official_step_refusal(
        request.user, site.municipality, access.hand_over_steps(is_proxy=False)
    )
    if kept:
        raise access.AccessDenied(kept)
    day = clock.to_jst(reservation.slot.starts_at).date()
    day_url = reverse("counter_console:site_day", args=[site.pk]) + f"?day={day}"
    initial = {"is_proxy": "1" if reservation.is_proxy else "0"}
    form = HandOverForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        user = _staff(request)
        try:
            hand_over_card_at_visit(
                code=reservation.code,
                actor=Actor.staff(user),
                staff_user=user,
                checks=form.checks(),
            )
        except DomainError as error:
            if error.status == 403:  # a judgement kept for officials: the one refusal page
                raise access.AccessDenied(error.message) from error
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                gettext("%(code)s：カードを交付し、完了にしました") % {"code": reservation.code},
            )
            return redirect(day_url)
    card = card_of_booking(reservation.code)
    return render(
        request,
        "counter_console/hand_over.html",
        {
            "site": site,
            "reservation": reservation,
            "is_pickup": reservation.procedure.code == ProcedureCode.CARD_PICKUP,
            "card": card,
            "ticket": QueueTicket.objects.filter(reservation=reservation).first(),
            "language": Visit(reservation, None, None).language_for_staff,
            "form": form,
            "day_url": day_url,
        },
        status=422 if form.errors else 200,
    )
