"""`madoguchi solve-staffing`: solve and keep the staffing plans whose inputs changed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.forecasts.staffing_cache import solve_stale


class Command(BaseCommand):
    help = (
        "窓口の配置計画を計算して保存します（各自治体の方針どおりの計画と、入力が変わった"
        "保存済みの計画）。台帳の取込や方針の変更のあと、または毎夜 cron などで実行します。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for row, solved in solve_stale():
            what = row.choices_key[:12] or "policy"
            if solved:
                self.stdout.write(f"{row.municipality}: {what} solved in {row.solve_seconds:.2f} s")
            else:
                self.stdout.write(f"{row.municipality}: {what} current")
