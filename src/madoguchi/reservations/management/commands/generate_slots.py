"""`madoguchi generate-slots [--weeks 8]`: make every active site's slots match its calendar,
from today to `--weeks` ahead or to the end of its municipality's booking window, whichever is
later (a window of up to 120 days would otherwise be offered without times beyond 8 weeks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.offices.selectors import active_sites
from madoguchi.reservations.selectors import slot_conflicts
from madoguchi.reservations.slots import GenerationReport, regenerate_site_slots


class Command(BaseCommand):
    help = "Generate or refresh bookable slots from each site's calendar (never drops a booking)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--weeks", type=int, default=8, help="how many weeks ahead (default 8)")

    def handle(self, *args: Any, **options: Any) -> None:
        weeks = max(1, int(options["weeks"]))
        first = clock.today()
        last = first + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
        actor = Actor.system("generate_slots")
        report, shown = GenerationReport(), last
        for site in active_sites().select_related("municipality"):
            window_end = first + dt.timedelta(days=site.municipality.booking_window_max_days)
            until = max(last, window_end)
            report.add(regenerate_site_slots(site=site, first=first, last=until, actor=actor))
            shown = max(shown, until)
        self.stdout.write(
            f"{first}〜{shown}: 作成 {report.created} / 更新 {report.updated} / "
            f"削除 {report.removed} / 要対応（予約ありで枠が合わない）{report.conflicts}"
        )
        for slot in slot_conflicts()[:20]:
            self.stdout.write(
                f"  要対応: {slot.site.name} {clock.to_jst(slot.starts_at):%Y-%m-%d %H:%M} "
                f"{slot.procedure.name} 予約{slot.booked}件: {slot.conflict_reason}"
            )
