from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.core.audit import verify_audit_chain


class Command(BaseCommand):
    help = "監査ログのハッシュチェーンを検証します（正常 0、破損 1）。"

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_audit_chain()
        if report.intact:
            waiting = f"、封印待ち {report.pending} 件" if report.pending else ""
            self.stdout.write(f"監査ログは正常です（{report.checked} 件を確認{waiting}）。")
            return
        self.stderr.write(
            f"監査ログが破損しています: 記録 #{report.first_bad_id} — {report.reason}"
            f"（それより前の {report.checked} 件は正常）。"
        )
        raise SystemExit(1)
