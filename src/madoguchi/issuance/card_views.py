"""The per-card staff page: its stage history and the moves `CARD_TRANSITIONS` allows from here.

Views parse and call one service; the roles follow the dashboard's (auditors read, contractors
work but neither remind nor destroy) and the services check again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.issuance import services
from madoguchi.issuance.models import CARD_TRANSITIONS, CardRecord, CardStatus, DefectReason
from madoguchi.issuance.selectors import card_audit_trail, card_stage_history, search_cards
from madoguchi.issuance.views import OFFICIALS, READERS, WORKERS, _municipality, _staff, roles


@dataclass(frozen=True)
class CardAction:
    """One move the card page offers: the POST `action` value, its button and who may press it."""

    name: str
    target: CardStatus
    button: str
    allowed: frozenset[str]


ACTIONS = (
    CardAction("inspect", CardStatus.INSPECTED, gettext_noop("検品済みにする"), WORKERS),
    CardAction("setup", CardStatus.SETUP_DONE, gettext_noop("交付前設定済みにする"), WORKERS),
    CardAction("defective", CardStatus.DEFECTIVE, gettext_noop("不良にする"), WORKERS),
    CardAction("return", CardStatus.RETURNED_TO_JLIS, gettext_noop("J-LISへ返送した"), WORKERS),
    CardAction("remind", CardStatus.REMINDED, gettext_noop("再通知を送った"), OFFICIALS),
    CardAction("destroy", CardStatus.DESTROYED, gettext_noop("廃棄する"), OFFICIALS),
)
_BY_NAME = {action.name: action for action in ACTIONS}


def actions_for(status: str, role: str) -> list[CardAction]:
    """The page's moves that CARD_TRANSITIONS allows from `status` and `role` may make.

    Booking, notices and hand-over are not here: they happen through the booking site, the
    paced notice batch and the counter console."""
    targets = CARD_TRANSITIONS.get(status, frozenset())
    return [a for a in ACTIONS if a.target in targets and role in a.allowed]


def _card(request: HttpRequest, card_id: int) -> CardRecord:
    return get_object_or_404(
        CardRecord.objects.select_related("municipality", "handed_over_by", "setup_terminal"),
        pk=card_id,
        municipality=_municipality(request),
    )


@roles(READERS)
def card_detail(request: HttpRequest, card_id: int) -> HttpResponse:
    """One card: its details, stage history with times, audit trail and the allowed moves."""
    card = _card(request, card_id)
    policy = services.policy_for(card.municipality_id)
    return render(
        request,
        "issuance/card.html",
        {
            "card": card,
            "history": card_stage_history(card),
            "trail": card_audit_trail(card.pk),
            "actions": actions_for(card.status, _staff(request).role),
            "defect_reasons": DefectReason.choices,
            "destroy_due_on": services.destroy_due_on(card, policy),
        },
    )


@require_POST
@roles(WORKERS)
def card_act(request: HttpRequest, card_id: int) -> HttpResponse:
    """POST `action` (and `reason` for a defect): one service call; refusals shown on the page."""
    card = _card(request, card_id)
    user = _staff(request)
    action = _BY_NAME.get(request.POST.get("action", ""))
    if action is None:
        return HttpResponse("不明な操作です。", status=400)
    if user.role not in action.allowed:
        return HttpResponseForbidden("この操作を行う権限がありません。")
    actor = Actor.staff(user)
    try:
        if action.name == "inspect":
            services.inspect_card(card=card, actor=actor)
        elif action.name == "setup":
            services.record_card_setup(card=card, terminal=None, actor=actor)
        elif action.name == "defective":
            reason = request.POST.get("reason", "")
            if reason not in DefectReason.values:
                raise DomainError(
                    "reason_required", gettext("不良の内容を一覧から選んでください。")
                )
            services.mark_card_defective(card=card, reason=DefectReason(reason).label, actor=actor)
        elif action.name == "return":
            services.return_card_to_jlis(card=card, actor=actor)
        elif action.name == "remind":
            services.send_reminder(card=card, actor=actor)
        else:
            services.destroy_card(card=card, actor=actor, staff_user=user)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request, gettext("「%(status)s」にしました。") % {"status": card.get_status_display()}
        )
    return redirect("issuance:card", card_id=card.pk)


@roles(READERS)
def card_search(request: HttpRequest) -> HttpResponse:
    """Find cards by application ID (or its first 8+ digits) or booking number; one hit opens
    its page."""
    query = request.GET.get("q", "").strip()
    found = search_cards(_municipality(request).pk, query) if query else []
    if len(found) == 1:
        return redirect("issuance:card", card_id=found[0].pk)
    return render(request, "issuance/card_search.html", {"query": query, "found": found})
