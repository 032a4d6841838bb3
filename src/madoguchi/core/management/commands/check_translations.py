from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.core.languages import missing_translations, resident_messages, translated_languages


class Command(BaseCommand):
    help = (
        "翻訳カタログが揃っているかを確かめます（揃っていれば 0、不足があれば 1）。"
        "住民向けの文言はすべての言語で、職員向けを含むすべての文言は英語で訳されている必要が"
        "あります（docs/languages.md）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-l",
            "--language",
            action="append",
            help="調べる言語コード（例: ko、ja-x-easy）。省略するとすべての言語",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        offered = translated_languages()
        codes = options["language"] or offered
        unknown = [code for code in codes if code not in offered]
        if unknown:
            raise CommandError(
                f"settings.LANGUAGES にない言語コードです: {', '.join(unknown)}"
                f"（使える言語: {', '.join(offered)}）"
            )
        failed = False
        for code in codes:
            findings = missing_translations(code)
            if not findings:
                self.stdout.write(f"{code}: 揃っています（住民向け {len(resident_messages())} 件）")
                continue
            failed = True
            self.stderr.write(f"{code}: 不足 {len(findings)} 件")
            for finding in findings:
                self.stderr.write(f"  {finding.problem}: {finding.msgid!r}")
        if failed:
            raise SystemExit(1)
