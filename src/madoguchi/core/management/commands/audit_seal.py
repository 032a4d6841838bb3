from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.core.audit import seal_audit_events


class Command(BaseCommand):
    help = (
        "封印待ちの監査ログをハッシュチェーンにつなぎます（通常は書き込み直後に自動で行われます）。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sealed = seal_audit_events()
        self.stdout.write(f"監査ログ {sealed} 件をチェーンにつなぎました。")
