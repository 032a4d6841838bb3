from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core import clock
from madoguchi.core.audit import seal_audit_events
from madoguchi.demo.city import DEMO_PASSWORD, build_demo_city
from madoguchi.demo.samples import sample_notice_lines


class Command(BaseCommand):
    help = "架空のデモ市を読み込み（何度実行しても同じ内容）、続けてサーバーを起動します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--residents", type=int, default=100_000, help="住民数（既定 100000）")
        parser.add_argument("--seed", type=int, default=1, help="乱数の種（既定 1）")
        parser.add_argument("--no-serve", action="store_true", help="読み込みだけ行う")
        parser.add_argument("--port", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["residents"] < 0:
            self.stderr.write("--residents は 0 以上にしてください。")
            raise SystemExit(2)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("デモ市を準備しています…")
        summary = build_demo_city(
            residents=options["residents"], seed=options["seed"], today=clock.today()
        )
        self.stdout.write(
            f"{summary.municipality.name}: 窓口 {summary.sites} か所、住民 {summary.residents:,} 人"
            "（すべて架空）"
        )
        self.stdout.write("職員用デモログイン（/staff/login/）:")
        for username in summary.staff_usernames:
            self.stdout.write(f"  ユーザー名 {username}  パスワード {DEMO_PASSWORD}")
        for line in sample_notice_lines():
            self.stdout.write(line)
        seal_audit_events()  # the server replaces this process: leave no event unsealed
        if not options["no_serve"]:
            serve_options = {} if options["port"] is None else {"port": options["port"]}
            call_command("serve", **serve_options)
