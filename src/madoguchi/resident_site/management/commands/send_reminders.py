"""`madoguchi send-reminders [--date YYYY-MM-DD]`: the day-before reminders, by e-mail and SMS,
to every booking with a contact (card pick-ups too).

Run it once a day (cron or a systemd timer); running it again sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.resident_site.reminders import send_day_before_reminders


class Command(BaseCommand):
    help = "予約日前日のお知らせ（メール・SMS）を送ります（何度実行しても二重には送りません）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="予約日（YYYY-MM-DD）。省略すると明日。", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        day = None
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as error:
                raise CommandError("--date は YYYY-MM-DD で指定してください。") from error
        sent = failed = 0
        for result in send_day_before_reminders(day=day):
            if result.sent:
                sent += 1
                if result.error:
                    self.stderr.write(
                        f"一部の連絡方法で送れませんでした {result.code}: {result.error}"
                    )
            else:
                failed += 1
                self.stderr.write(f"送信できませんでした {result.code}: {result.error}")
        self.stdout.write(f"送信 {sent} 件、失敗 {failed} 件")
        if failed:
            raise CommandError(f"{failed} 件のお知らせを送れませんでした。次回の実行で再送します。")
