import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.core import clock
from madoguchi.core.audit import seal_audit_events
from madoguchi.core.links import follow_server_port
from madoguchi.demo.city import (
    DEMO_CITIES,
    DEMO_PASSWORD,
    DemoSummary,
    backlog_hint,
    build_demo_city,
)
from madoguchi.demo.samples import sample_notice_lines
from madoguchi.offices.tenancy import resident_site_path
from madoguchi.staff.second_factor import secret_for_display


class Command(BaseCommand):
    help = "架空のデモ市を読み込み（何度実行しても同じ内容）、続けてサーバーを起動します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--residents", type=int, default=100_000, help="住民数（既定 100000）")
        parser.add_argument("--seed", type=int, default=1, help="乱数の種（既定 1）")
        parser.add_argument(
            "--municipalities",
            type=int,
            default=1,
            help=f"市町村の数（1〜{len(DEMO_CITIES)}、既定 1）。2 以上で、一つのシステムに"
            "複数の市町村を載せた形（住民向けサイトは /m/市町村コード/）",
        )
        parser.add_argument("--no-serve", action="store_true", help="読み込みだけ行う")
        parser.add_argument("--port", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["residents"] < 0:
            self.stderr.write("--residents は 0 以上にしてください。")
            raise SystemExit(2)
        if options["port"] is not None and not options["no_serve"]:
            # the sample notices' QR codes below already point at the port served
            follow_server_port(host="127.0.0.1", port=options["port"])
        if not 1 <= options["municipalities"] <= len(DEMO_CITIES):
            self.stderr.write(f"--municipalities は 1 から {len(DEMO_CITIES)} にしてください。")
            raise SystemExit(2)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("デモ市を準備しています…")
        summaries = [
            build_demo_city(
                residents=options["residents"], seed=options["seed"], today=clock.today(), city=city
            )
            for city in DEMO_CITIES[: options["municipalities"]]
        ]
        several = len(summaries) > 1
        self.stdout.write(
            "職員用デモログイン（/staff/login/）: パスワードのあとに二要素認証の確認コードが"
            "要ります。認証アプリ（TOTP）に秘密鍵か URI を登録するか、"
            "`madoguchi demo-code ユーザー名` で今のコードを表示してください。"
        )
        for summary in summaries:
            self._city(summary, several=several)
        self.stdout.write(
            "都道府県・全国の集計（/staff/planning/rollup/）は demo-rollup で見られます"
            "（他の職員の画面は開けません）。自治体の報告書は demo-manager の計画の画面から。"
        )
        seal_audit_events()  # the server replaces this process: leave no event unsealed
        if not options["no_serve"]:
            # The demo is served over plain http on this machine: cookies without the Secure
            # flag and no HSTS, unless the environment says otherwise (the server reads it).
            os.environ.setdefault("MADOGUCHI_HTTPS", "false")
            serve_options = {} if options["port"] is None else {"port": options["port"]}
            call_command("serve", **serve_options)

    def _city(self, summary: DemoSummary, *, several: bool) -> None:
        """What one demo city holds and where to look at it."""
        city = summary.city or DEMO_CITIES[0]
        municipality = summary.municipality
        site_path = resident_site_path(municipality.code) if several else "/"
        self.stdout.write("")
        self.stdout.write(
            f"{municipality.name}（{municipality.code}）: 窓口 {summary.sites} か所、"
            f"住民 {summary.residents:,} 人（すべて架空）"
        )
        self.stdout.write(f"  住民向けサイト: {site_path}")
        self.stdout.write(f"  職員の画面: /staff/（{city.username('manager')} などでログイン）")
        for username in summary.staff_usernames:
            device = TOTPDevice.objects.get(user__username=username, confirmed=True)
            self.stdout.write(f"  ユーザー名 {username}  パスワード {DEMO_PASSWORD}")
            self.stdout.write(f"    秘密鍵 {secret_for_display(device)}")
            self.stdout.write(f"    {device.config_url}")
        for line in sample_notice_lines(prefix=city.card_prefix, site_path=site_path):
            self.stdout.write(line)
        self.stdout.write(
            backlog_hint(municipality, manager=city.username("manager"), today=clock.today())
        )
        self._today(summary.today, site_path=site_path, official=city.username("official"))

    def _today(self, days: Any, *, site_path: str, official: str) -> None:
        """Where to look at today's demo visitors."""
        if not days:
            self.stdout.write("今日はどの窓口も開いていないため、当日の来庁者はいません。")
            return
        self.stdout.write(f"今日の窓口（{official} でログインして見てください）:")
        for day in days:
            site = day.site
            if "already" in day.notes:
                self.stdout.write(f"  {site.name}: 今日の来庁者は作成済みです")
            else:
                self.stdout.write(
                    f"  {site.name}: 予約 {day.booked} 件（受付済み {day.checked_in}）、"
                    f"当日の整理券 {day.tickets} 枚、窓口で呼出・対応中 {day.at_counters} 人"
                )
                for note in day.notes:
                    self.stdout.write(f"    {note}")
            self.stdout.write(f"    予約一覧（交付・検索）: /staff/sites/{site.pk}/")
            self.stdout.write(f"    呼び出し: /staff/queue/sites/{site.pk}/")
            self.stdout.write(f"    待合室の表示: {site_path}queue/sites/{site.pk}/")
            self.stdout.write(f"    整理券を受け取る: {site_path}queue/sites/{site.pk}/take/")
            self.stdout.write(
                f"    入口の整理券発行機（管理者が登録し、タブレットで有効化）: "
                f"/staff/queue/sites/{site.pk}/kiosks/"
            )
