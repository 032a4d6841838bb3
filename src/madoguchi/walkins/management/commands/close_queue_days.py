from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.reservations.services import close_missed_bookings
from madoguchi.walkins.services import close_past_queue_days


class Command(BaseCommand):
    help = (
        "前日までに終わっていない整理券を締めます"
        "（待ち→取消、呼出済み→来庁なし、対応中→完了）。前日までの予約で受付のないものは"
        "来庁なしにします（同じ方・同じ通知書で予約し直せます）。毎晩実行します。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("close-queue-days")
        counts = close_past_queue_days(before=clock.today(), actor=actor)
        missed = close_missed_bookings(before=clock.today(), actor=actor)
        self.stdout.write(
            f"取消 {counts['cancelled']} 件、来庁なし {counts['no_show']} 件、"
            f"完了 {counts['done']} 件を締めました。受付のなかった予約 {missed} 件を"
            "来庁なしにしました。"
        )
