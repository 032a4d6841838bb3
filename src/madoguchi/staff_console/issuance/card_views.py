"""The per-card staff page: its stage history and the moves `CARD_TRANSITIONS` allows from here.

Views parse and call one service; who may do what is the staff access rule (`staff.access`:
auditors read, contractors work but neither remind nor destroy) and the services check again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.transitions import TransitionTable
from madoguchi.issuance import services
from madoguchi.issuance.models import (
    CARD_TRANSITIONS,
    REMINDER_LETTER_TRANSITIONS,
    CardRecord,
    CardStatus,
    DefectReason,
)
from madoguchi.issuance.selectors import card_audit_trail, card_stage_history, search_cards
from madoguchi.issuance.typeset import unprintable
from madoguchi.staff import access
from madoguchi.staff.access import Action, staff_view
from madoguchi.staff_console.issuance.views import _municipality


@dataclass(frozen=True)
class CardAction:
    """One move the card page offers: the POST `action` value, its button and who may press it."""

    name: str
    target: CardStatus
    button: str
    needs: Action
    transitions: TransitionTable = field(default_factory=lambda: CARD_TRANSITIONS)
    """The moves this action makes (a part of CARD_TRANSITIONS, as its service checks)."""


ACTIONS = (
    CardAction("inspect", CardStatus.INSPECTED, gettext_noop("検品済みにする"), Action.CARD_WORK),
    CardAction(
        "setup", CardStatus.SETUP_DONE, gettext_noop("交付前設定済みにする"), Action.CARD_WORK
    ),
    CardAction("defective", CardStatus.DEFECTIVE, gettext_noop("不良にする"), Action.CARD_WORK),
    CardAction(
        "return", CardStatus.RETURNED_TO_JLIS, gettext_noop("J-LISへ返送した"), Action.CARD_WORK
    ),
    CardAction(
        "remind",
        CardStatus.REMINDED,
        gettext_noop("再通知を送った"),
        Action.CARD_OFFICIAL,
        REMINDER_LETTER_TRANSITIONS,
    ),
    CardAction("destroy", CardStatus.DESTROYED, gettext_noop("廃棄する"), Action.CARD_OFFICIAL),
)
_BY_NAME = {action.name: action for action in ACTIONS}


def actions_for(card: CardRecord, user: object) -> list[CardAction]:
    """The page's moves that CARD_TRANSITIONS allows from the card's status and the access
    rule lets `user` make on it.

    Booking, notices and hand-over are not here: they happen through the booking site, the
    paced notice batch and the counter console."""
    return [
        a
        for a in ACTIONS
        if a.target in a.transitions.get(card.status, frozenset())
        and access.allows(user, a.needs, municipality_id=card.municipality_id)
    ]


def _card(request: HttpRequest, card_id: int, action: Action, *shown: str) -> CardRecord:
    """The card, if the person may do `action` on it (403 otherwise, also for an id that does
    not exist: another municipality's card is not told apart from none): read with its
    municipality, and with the related rows a page shows (`shown`, select_related paths)."""
    card = CardRecord.objects.select_related("municipality", *shown).filter(pk=card_id).first()
    return access.require_object(
        request.user, action, card, municipality_of=lambda c: c.municipality_id
    )


@staff_view(Action.SEE_CARDS)
def card_detail(request: HttpRequest, card_id: int) -> HttpResponse:
    """One card: its details, stage history with times, audit trail and the allowed moves.
    Personal data: every reading is an access record."""
    card = _card(request, card_id, Action.SEE_CARDS, "handed_over_by", "setup_terminal")
    policy = services.policy_for(card.municipality_id)
    access.record_read(request.user, "card_page", card)
    return render(
        request,
        "issuance/card.html",
        {
            "card": card,
            "history": card_stage_history(card),
            "trail": card_audit_trail(card.pk),
            "actions": actions_for(card, request.user),
            "defect_reasons": DefectReason.choices,
            "destroy_due_on": services.destroy_due_on(card, policy),
            "unprintable": unprintable([card]),
        },
    )


@staff_view(Action.CARD_WORK)
@require_POST
def card_act(request: HttpRequest, card_id: int) -> HttpResponse:
    """POST `action` (and `reason` for a defect): one service call; the access rule refuses with
    403, the services' own refusals are shown on the page."""
    action = _BY_NAME.get(request.POST.get("action", ""))
    card = _card(request, card_id, action.needs if action is not None else Action.CARD_WORK)
    if action is None:
        return HttpResponse(gettext("不明な操作です。"), status=400)
    user = access.require(request.user, action.needs).user
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
            # Stored and audited in Japanese, whatever the page's language.
            with translation.override("ja"):
                label = str(DefectReason(reason).label)
            services.mark_card_defective(card=card, reason=label, actor=actor)
        elif action.name == "return":
            services.return_card_to_jlis(card=card, actor=actor)
        elif action.name == "remind":
            # One card's reminder letter, when it is due: a batch of one to print and mail.
            services.send_reminders(cards=[card], actor=actor, municipality=card.municipality)
        else:
            services.destroy_card(card=card, actor=actor, staff_user=user)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request, gettext("「%(status)s」にしました。") % {"status": card.get_status_display()}
        )
    return redirect("issuance:card", card_id=card.pk)


@staff_view(Action.SEE_CARDS)
def card_search(request: HttpRequest) -> HttpResponse:
    """Find cards by application ID (or its first 8+ digits) or booking number; one hit opens
    its page. The person's own municipality only; a search with hits is an access record."""
    query = request.GET.get("q", "").strip()
    municipality = _municipality(request)
    found = search_cards(municipality.pk, query) if query else []
    if found:
        access.record_read(
            request.user, "card_search", municipality, cards=[card.pk for card in found]
        )
    if len(found) == 1:
        return redirect("issuance:card", card_id=found[0].pk)
    return render(request, "issuance/card_search.html", {"query": query, "found": found})
