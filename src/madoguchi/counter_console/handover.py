"""Card hand-over at the counter: closes a checked-in `card_pickup` visit.

The form only parses; `issuance.services.hand_over_card` decides (officials where the
municipality requires them, the proxy reason, the document class) and
`reservations.services.mark_served` closes the visit — both in one transaction, so the card
is never handed over while the visit stays open, nor the visit closed without the card.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.counter_console.views import _reservation, _staff
from madoguchi.issuance.models import IdDocumentClass, ProxyReason
from madoguchi.issuance.selectors import card_by_reservation
from madoguchi.issuance.services import hand_over_card
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.reservations.services import mark_served
from madoguchi.staff import access
from madoguchi.staff.access import Action, staff_view

PICKUP = "card_pickup"


class HandOverForm(RefusesIndividualNumbers, forms.Form):
    """What the counter records at hand-over. No free text: nothing that could carry personal
    data beyond the fixed choices."""

    is_proxy = forms.TypedChoiceField(
        label=_("受け取る人"),
        choices=[("0", _("ご本人")), ("1", _("代理人"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("ご本人か代理人かを選んでください。")},
    )
    proxy_reason = forms.ChoiceField(
        label=_("代理の理由"),
        choices=[("", _("（代理人のときに選ぶ）")), *ProxyReason.choices],
        required=False,
        error_messages={"invalid_choice": _("代理の理由を一覧から選んでください。")},
    )
    id_document_class = forms.ChoiceField(
        label=_("本人確認書類"),
        choices=IdDocumentClass.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("本人確認書類の区分（写真付き1点、または写真なし2点）を選んでください。")
        },
    )
    identity_checked = forms.BooleanField(
        label=_("本人確認を行いました"),
        error_messages={"required": _("本人確認を行ってから「交付する」を押してください。")},
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("is_proxy") and not data.get("proxy_reason"):
            self.add_error(
                "proxy_reason", _("代理人に交付するときは、代理の理由を選んでください。")
            )
        if data.get("is_proxy") is False:
            data["proxy_reason"] = ""
        return data


def _refusal(reservation: Reservation) -> str:
    """Why this visit cannot be closed by a hand-over, or "" when it can."""
    if reservation.procedure.code != PICKUP:
        return gettext("この予約はカードの受け取りではありません。")
    if reservation.status != ReservationStatus.CHECKED_IN:
        return gettext(
            "カードを交付できるのは、受付済みの予約だけです。先に「受付」をしてください。"
        )
    return ""


@staff_view(Action.HAND_OVER)
@require_POST
def hand_over(request: HttpRequest, code: str) -> HttpResponse:
    """POST: hand the booked card over and mark the visit served, atomically (both or neither).

    Who may: the access rule (403) — the site, and the judgements the municipality keeps for its
    officials (a contractor is refused there). Other refusals — the form, the visit's state, the
    service's own — are shown on the day view and change nothing.
    """
    reservation = _reservation(request, code, Action.HAND_OVER)
    site = reservation.slot.site
    kept = access.official_step_refusal(
        request.user, site.municipality, access.hand_over_steps(is_proxy=False)
    )
    if kept:
        raise access.AccessDenied(kept)
    day = clock.to_jst(reservation.slot.starts_at).date()
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("counter_console:site_day", args=[site.pk]) + f"?day={day}"

    form = HandOverForm(request.POST)
    refusal = _refusal(reservation)
    card = card_by_reservation(reservation.code) if not refusal else None
    if not refusal and card is None:
        refusal = gettext("この予約に結びついた交付待ちのカードが見つかりません。")
    if not refusal and not form.is_valid():
        refusal = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if not refusal and form.cleaned_data["is_proxy"]:
        kept = access.official_step_refusal(
            request.user, site.municipality, access.hand_over_steps(is_proxy=True)
        )
        if kept:
            raise access.AccessDenied(kept)
    if refusal or card is None:
        messages.error(request, f"{reservation.code}：{refusal}")
        return redirect(target)

    user = _staff(request)
    actor = Actor.staff(user)
    try:
        with transaction.atomic():
            hand_over_card(
                card=card,
                actor=actor,
                staff_user=user,
                is_proxy=form.cleaned_data["is_proxy"],
                id_document_class=form.cleaned_data["id_document_class"],
                proxy_reason=form.cleaned_data["proxy_reason"],
            )
            mark_served(code=reservation.code, actor=actor)
    except DomainError as error:
        messages.error(request, f"{reservation.code}：{error.message}")
    else:
        messages.success(
            request,
            gettext("%(code)s：カードを交付し、完了にしました") % {"code": reservation.code},
        )
    return redirect(target)
