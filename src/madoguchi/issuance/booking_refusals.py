"""What a booking that finds a card it cannot book tells the resident: residents read these
(in the page's language — `core.languages.RESIDENT_SOURCES`), through the booking service."""

from __future__ import annotations

from django.utils.translation import gettext as _

from madoguchi.core.errors import DomainError
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.issuance.numbers import format_notice_number

__all__ = ["card_not_bookable", "card_past_booking"]


def card_not_bookable() -> DomainError:
    """409 `card_not_bookable`: the card is booked already, handed over, or not yet noticed."""
    return DomainError(
        "card_not_bookable", _("このカードはすでに予約済みか、予約できない状態です。"), status=409
    )


def card_past_booking(card: CardRecord) -> DomainError:
    """409 for a booking that found `card` handed over (`card_handed_over`) or destroyed after
    the deadline to collect (`card_destroyed`): the number and birth date were typed right, so
    the resident is told what became of the card, not to check them again."""
    number = format_notice_number(card.notice_number or "")
    if card.status == CardStatus.HANDED_OVER:
        return DomainError(
            "card_handed_over",
            _(
                "通知書番号 %(number)s のカードは、すでにお渡ししています。"
                "このカードの受け取りの予約はいりません。"
            )
            % {"number": number},
            status=409,
        )
    return DomainError(
        "card_destroyed",
        _(
            "通知書番号 %(number)s のカードは、受け取りの期限を過ぎたため廃棄しました。"
            "カードが必要な方は、市区町村の窓口にお問い合わせください。"
        )
        % {"number": number},
        status=409,
    )
