from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.core.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "FILE のバックアップでデータベースを置き換え、目録の行数と監査ログの先頭と一致する"
        "ことを確かめます。サービスを止めてから実行してください（docs/backup.md）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--yes", action="store_true", help="いまのデータベースを上書きすることに同意する"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError(
                "いまのデータベースの内容はすべてバックアップの内容に置き換わります。"
                "よければ --yes を付けて実行してください。"
            )
        try:
            fingerprint = restore(options["file"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        head = fingerprint["audit_head"] or {"seq": 0}
        self.stdout.write(
            f"リストアしました: {options['file']}（{sum(fingerprint['tables'].values()):,} 行、"
            f"監査ログの先頭 #{head['seq']}、目録と一致）。"
            "続けて madoguchi audit-verify で監査ログを確かめてください。"
        )
