from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.walkins.services import close_past_queue_days


class Command(BaseCommand):
    help = (
        "前日までに終わっていない整理券を締めます"
        "（待ち→取消、呼出済み→来庁なし、対応中→完了）。毎晩実行します。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = close_past_queue_days(before=clock.today(), actor=Actor.system("close-queue-days"))
        self.stdout.write(
            f"取消 {counts['cancelled']} 件、来庁なし {counts['no_show']} 件、"
            f"完了 {counts['done']} 件を締めました。"
        )
