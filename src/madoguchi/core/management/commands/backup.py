from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.core.backup import BackupError, backup, manifest_path


class Command(BaseCommand):
    help = (
        "動いているデータベースの一貫したバックアップを FILE に書きます（SQLite はオンライン"
        "バックアップ、PostgreSQL は pg_dump）。FILE.manifest.json に行数と監査ログの先頭を"
        "記録します。監査ログの鍵とチェックポイントは含みません（docs/backup.md）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup(options["file"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        fingerprint = manifest["fingerprint"]
        head = fingerprint["audit_head"] or {"seq": 0}
        self.stdout.write(
            f"バックアップしました: {options['file']}（{len(fingerprint['tables'])} 表、"
            f"{sum(fingerprint['tables'].values()):,} 行、監査ログの先頭 #{head['seq']}）。"
            f"目録: {manifest_path(Path(options['file']))}"
        )
        self.stdout.write(
            "監査ログの鍵とチェックポイントのファイルは別に保管してください（docs/backup.md）。"
        )
