from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core.audit import FINDING_TITLES, verify_audit_chain


class Command(BaseCommand):
    help = (
        "監査ログを鍵とチェックポイントで検証します（正常 0、問題あり 1）。"
        "問題は種類の名前つきで表示します（docs/audit.md）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints",
            type=Path,
            help="チェックポイントのファイル（既定: MADOGUCHI_AUDIT_CHECKPOINT_FILE）。"
            "チェックポイントを含むサーバーログも指定できます",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_audit_chain(checkpoint_file=options["checkpoints"])
        for note in report.notes:
            self.stdout.write(f"注記: {note}")
        if report.intact:
            waiting = f"、封印待ち {report.pending} 件" if report.pending else ""
            self.stdout.write(
                f"監査ログは正常です（{report.checked} 件を確認、"
                f"チェックポイント {report.checkpoints} 件と一致{waiting}）。"
            )
            return
        self.stderr.write(f"監査ログに問題があります（{len(report.findings)} 件）:")
        for finding in report.findings:
            self.stderr.write(
                f"  [{finding.kind}] {FINDING_TITLES[finding.kind]}: {finding.message}"
            )
        self.stderr.write(f"（それより前の {report.checked} 件は正常）")
        raise SystemExit(1)
