from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.staff.second_factor import demo_totp_key


class Command(BaseCommand):
    help = (
        "デモ市の職員アカウントの、今の確認コード（二要素認証）を表示します。"
        "デモの公開された秘密鍵を持つアカウントにだけ使えます。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="デモのユーザー名（例 demo-manager）")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        device = TOTPDevice.objects.filter(
            user__username=username, confirmed=True, key=demo_totp_key(username)
        ).first()
        if device is None:
            raise CommandError(
                f"{username} はデモ市のアカウントではありません（本物のアカウントの"
                "コードは、そのアカウントの認証アプリにしか表示されません）。"
            )
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
