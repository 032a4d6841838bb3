"""Sample notice numbers (交付通知書番号) printed by `madoguchi demo`: cards whose notice went
out, not booked yet."""

from __future__ import annotations

from madoguchi.demo.pipeline import PREFIX
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.issuance.numbers import format_notice_number
from madoguchi.offices.models import ProcedureCode


def sample_notice_lines(count: int = 3, *, prefix: str = PREFIX, site_path: str = "/") -> list[str]:
    """A few notice numbers with birth dates of demo cards ready to book (the demo city whose
    application ids start with `prefix`; its residents' site at `site_path`)."""
    cards = CardRecord.objects.filter(
        application_id__startswith=prefix, status=CardStatus.NOTICE_ISSUED
    ).order_by("pk")[:count]
    lines = [
        f"  交付通知書番号 {format_notice_number(c.notice_number or '')}"
        f"  生年月日 {c.birth_date:%Y-%m-%d}"
        for c in cards
    ]
    title = f"カード受け取り予約の試し用（{site_path}book/{ProcedureCode.CARD_PICKUP.value}/）:"
    return [title, *lines] if lines else []
