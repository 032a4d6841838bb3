"""Every catalogue is complete (docs/languages.md), dates take each language's form, and pages
switch language with the request.

Japanese is the default (the msgids are the Japanese text); another language is chosen by
`Accept-Language` or the language cookie, through `LocaleMiddleware`. Every offered language
translates every residents' message; English translates every message (staff pages too).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import formats, translation
from django.utils.formats import date_format

from madoguchi.core import languages
from madoguchi.core.formats import NAMED_FORMATS
from madoguchi.staff.models import StaffUser
from tests import personas
from tests.conftest import login_staff

PO = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"
TODAY = dt.date(2026, 11, 26)
TRANSLATED = languages.translated_languages()
IN_CI = bool(os.environ.get("CI"))


def _needs(tool: str) -> None:
    if shutil.which(tool) is None:
        if IN_CI:
            pytest.fail(f"{tool} (GNU gettext) is missing")
        pytest.skip(f"needs GNU gettext ({tool})")


# --- every catalogue complete (docs/languages.md) ---------------------------------------------


def test_every_language_offered_has_a_catalogue_but_the_source_language() -> None:
    assert settings.LANGUAGE_CODE == "ja"
    assert TRANSLATED == ["ja-x-easy", "en", "zh-hans", "ko", "vi", "pt-br"]
    for code in TRANSLATED:
        assert languages.catalogue_path(code).exists(), code


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_catalogue_translates_every_message_it_must(code: str) -> None:
    """Every residents' message (and, in English, every message) translated, none fuzzy, the
    placeholders and HTML tags of each msgid kept."""
    _needs("xgettext")
    assert [str(f) for f in languages.missing_translations(code)] == []


def test_the_residents_messages_are_those_of_the_residents_sources() -> None:
    _needs("xgettext")
    messages = {msgid for _ctx, msgid in languages.resident_messages()}
    assert len(messages) > 300
    # pages, mails' layout, services' refusals, choice labels residents read
    for msgid in ("予約の確認", "本文へ移動", "整理券を受け取る", "長期の海外滞在", "郵便局"):
        assert msgid in messages
    # staff pages only: Japanese and English
    for msgid in ("カードを探す", "段階ごとの枚数", "職員メニュー"):
        assert msgid not in messages
    en = {e.msgid for e in languages.read_po(PO)}
    assert messages <= en


def _write_po(path: Path, entries: str, language: str = "ko") -> Path:
    path.write_text(
        'msgid ""\nmsgstr ""\n'
        f'"Language: {language}\\n"\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n\n' + entries,
        encoding="utf-8",
    )
    return path


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _complete_entries(skip: str = "", overrides: dict[str, str] | None = None) -> str:
    """A catalogue "translating" every residents' message as itself (placeholders kept), with
    `skip` left out and `overrides` translated as given."""
    overrides = overrides or {}
    lines = []
    for ctx, msgid in sorted(languages.resident_messages()):
        if msgid == skip:
            continue
        context = f"msgctxt {_quote(ctx)}\n" if ctx else ""
        text = overrides.get(msgid, msgid)
        lines.append(f"{context}msgid {_quote(msgid)}\nmsgstr {_quote(text)}\n")
    return "\n".join(lines)


def test_the_check_passes_a_complete_catalogue_and_names_each_gap(tmp_path: Path) -> None:
    """The completeness check can fail: a missing message, an empty or fuzzy one, a lost or
    renamed placeholder, a dropped tag and a wrong Language header are each reported."""
    _needs("xgettext")
    complete = _write_po(tmp_path / "ok.po", _complete_entries())
    assert languages.missing_translations("ko", complete) == []

    missing = _write_po(tmp_path / "missing.po", _complete_entries(skip="予約の確認"))
    assert [(f.msgid, f.problem) for f in languages.missing_translations("ko", missing)] == [
        ("予約の確認", "not in the catalogue (run makemessages)")
    ]

    empty = _write_po(tmp_path / "empty.po", _complete_entries(overrides={"予約の確認": ""}))
    assert [f.problem for f in languages.missing_translations("ko", empty)] == ["not translated"]

    fuzzy_text = _complete_entries().replace('msgid "予約の確認"', '#, fuzzy\nmsgid "予約の確認"')
    fuzzy = _write_po(tmp_path / "fuzzy.po", fuzzy_text)
    assert [f.problem for f in languages.missing_translations("ko", fuzzy)] == ["fuzzy"]

    for name, bad in {
        "lost": "前の日付を選んでください",
        "renamed": "%(days)sの時間を選んでください",
        "brace": "{day}の時間を選んでください",
    }.items():
        po = _write_po(
            tmp_path / f"{name}.po",
            _complete_entries(overrides={"%(day)sの時間を選んでください": bad}),
        )
        assert [(f.msgid, f.problem) for f in languages.missing_translations("ko", po)] == [
            ("%(day)sの時間を選んでください", "placeholders differ")
        ], name

    tag = '<span class="big">%(n)s</span> 人'
    no_tag = _write_po(tmp_path / "tag.po", _complete_entries(overrides={tag: "%(n)s 명"}))
    assert [f.problem for f in languages.missing_translations("ko", no_tag)] == ["HTML tags differ"]

    header = _write_po(tmp_path / "header.po", _complete_entries(), language="vi")
    assert [f.problem for f in languages.missing_translations("ko", header)] == [
        "the header does not say Language: ko"
    ]


def test_a_staff_language_must_translate_every_message_it_holds(tmp_path: Path) -> None:
    _needs("xgettext")
    entries = _complete_entries() + '\nmsgid "カードを探す"\nmsgstr ""\n'
    po = _write_po(tmp_path / "en.po", entries, language="en")
    assert [(f.msgid, f.problem) for f in languages.missing_translations("en", po)] == [
        ("カードを探す", "not translated")
    ]
    ko = _write_po(tmp_path / "ko.po", entries)
    assert languages.missing_translations("ko", ko) == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_msgfmt_accepts_the_catalogue(code: str) -> None:
    _needs("msgfmt")
    result = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(languages.catalogue_path(code))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalogue_is_the_catalogue(code: str) -> None:
    """The committed .mo is what Django reads: it gives every translation the .po holds."""
    entries = [e for e in languages.read_po(languages.catalogue_path(code)) if e.msgid]
    stale = []
    with translation.override(code):
        for entry in entries:
            if not all(entry.msgstrs) or entry.fuzzy:
                continue
            if entry.msgid_plural:
                got = translation.ngettext(entry.msgid, entry.msgid_plural, 1)
            elif entry.msgctxt:
                got = translation.pgettext(entry.msgctxt, entry.msgid)
            else:
                got = translation.gettext(entry.msgid)
            if got not in entry.msgstrs:
                stale.append(entry.msgid)
    assert stale == [], "run `madoguchi compilemessages`"


def test_the_check_command_reports_every_language_and_refuses_an_unknown_one() -> None:
    _needs("xgettext")
    out = StringIO()
    call_command("check_translations", stdout=out)
    for code in TRANSLATED:
        assert f"{code}: 揃っています" in out.getvalue()
    with pytest.raises(CommandError, match=r"settings\.LANGUAGES にない言語コードです: xx"):
        call_command("check_translations", "-l", "xx")


# --- language names, formats, staff pages -----------------------------------------------------


def test_the_switch_names_each_language_in_its_own_language() -> None:
    assert dict(settings.LANGUAGES) == {
        "ja": "日本語",
        "ja-x-easy": "やさしい日本語",
        "en": "English",
        "zh-hans": "简体中文",
        "ko": "한국어",
        "vi": "Tiếng Việt",
        "pt-br": "Português",
    }
    for code in languages.offered_languages():
        assert translation.get_language_info(code)["code"] == code
        assert translation.check_for_language(code)


@pytest.mark.parametrize("code", languages.offered_languages())
def test_every_language_has_every_named_date_format(code: str) -> None:
    day = dt.datetime(2026, 12, 6, 9, 30)
    with translation.override(code):
        for name in NAMED_FORMATS:
            fmt = formats.get_format(name)
            assert fmt != name, (code, name)
            assert "6" in date_format(day, name)


def test_dates_take_each_languages_own_form() -> None:
    day = dt.date(2026, 12, 6)
    expected = {
        "ja": ("2026年12月6日", "12月6日（日）"),
        "ja-x-easy": ("2026年12月6日", "12月6日（日）"),
        "en": ("December 6, 2026", "Sun, December 6"),
        "zh-hans": ("2026年12月6日", "12月6日（星期日）"),
        "ko": ("2026년 12월 6일", "12월 6일 (일요일)"),
        "vi": ("6/12/2026", "Chủ nhật, 6/12"),
        "pt-br": ("06/12/2026", "Dom, 06/12"),
    }
    for code, (date, day_form) in expected.items():
        with translation.override(code):
            assert (date_format(day, "DATE_FORMAT"), date_format(day, "DAY_FORMAT")) == (
                date,
                day_form,
            ), code


def test_the_compiled_catalogue_holds_the_staff_strings() -> None:
    """The committed .mo is what Django reads: it must carry the latest staff translations."""
    with translation.override("en"):
        assert translation.gettext("カードを探す") == "Find a card"
        assert translation.gettext("整理券を受け取る") == "Take a queue ticket"
        assert translation.pgettext("counter desk", "窓口") == "Counter"
        assert translation.gettext("窓口") == "Site"
    with translation.override("ja"):
        assert translation.gettext("カードを探す") == "カードを探す"


# --- pages -----------------------------------------------------------------------------------


DEMO_CITY = personas.DemoCity(residents=200, seed=1)


def _manager(**headers: str) -> Client:
    client = Client(headers=headers)
    login_staff(client, StaffUser.objects.get(username="demo-manager"))
    return client


PAGES = [
    ("/staff/", "<h1>職員メニュー</h1>", "<h1>Staff menu</h1>"),
    ("/staff/planning/", "更新の波と窓口の計画", "Renewal wave and counter planning"),
    ("/staff/issuance/", "段階ごとの枚数", "Cards by stage"),
    ("/staff/queue/", "<h1>当日受付の呼び出し</h1>", "<h1>Calling walk-ins</h1>"),
    ("/queue/", "<h1>窓口の混雑状況</h1>", "<h1>How busy the offices are</h1>"),
    ("/", "マイナンバーカードの窓口と受付時間", "My Number Card counters and opening hours"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "japanese", "english"), PAGES)
def test_pages_are_japanese_by_default_and_english_on_request(
    demo_city: object, url: str, japanese: str, english: str
) -> None:
    default = _manager().get(url)
    assert default.status_code == 200
    html = default.content.decode()
    assert '<html lang="ja">' in html
    assert japanese in html
    assert english not in html

    translated = _manager(accept_language="en").get(url)
    assert translated.status_code == 200
    html = translated.content.decode()
    assert '<html lang="en">' in html
    assert english in html
    assert japanese not in html


@pytest.mark.django_db
def test_the_language_cookie_selects_english(demo_city: object) -> None:
    client = _manager()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/staff/issuance/").content.decode()
    assert "Card issuance status" in html
    assert "Find a card" in html
    assert "Counter work (staff)" in html
    assert "カードを探す" not in html


@pytest.mark.django_db
def test_the_english_issuance_dashboard_has_no_untranslated_headings(demo_city: object) -> None:
    html = _manager(accept_language="en").get("/staff/issuance/").content.decode()
    for heading in (
        "Sending card issuance notices (paced to the booking slots)",
        "Weekly summary",
        "Expected card arrivals (from weekly application counts)",
    ):
        assert heading in html
    for japanese in ("段階ごとの枚数", "週ごとのまとめ", "交付通知書の発送"):
        assert japanese not in html


RESIDENT_HOME_HEADINGS = {
    "ja": "マイナンバーカードの窓口と受付時間",
    "ja-x-easy": "マイナンバーカードの まどぐちと あいている じかん",
    "en": "My Number Card counters and opening hours",
    "zh-hans": "个人编号卡窗口和受理时间",
    "ko": "마이넘버 카드 창구와 접수 시간",
    "vi": "Điểm tiếp nhận thẻ My Number và giờ tiếp nhận",
    "pt-br": "Locais de atendimento do cartão My Number e horários",
}


@pytest.mark.django_db
def test_resident_pages_come_in_every_language_offered_with_its_lang_and_switch(
    demo_city: object,
) -> None:
    assert set(RESIDENT_HOME_HEADINGS) == set(languages.offered_languages())
    for code, heading in RESIDENT_HOME_HEADINGS.items():
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = code
        html = client.get("/").content.decode()
        assert f'<html lang="{code}">' in html
        assert heading in html
        for other, name in settings.LANGUAGES:
            selected = " selected" if other == code else ""
            assert f'<option value="{other}" lang="{other}"{selected}>{name}</option>' in html
        assert "英語" not in html


@pytest.mark.django_db
def test_staff_pages_stay_japanese_or_english_whatever_the_residents_language(
    demo_city: object,
) -> None:
    for code in ("ko", "ja-x-easy", "vi"):
        client = _manager()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = code
        html = client.get("/staff/").content.decode()
        assert '<html lang="ja">' in html
        assert "<h1>職員メニュー</h1>" in html
        assert '<option value="ko"' not in html
        assert '<option value="en" lang="en">English</option>' in html
    english = _manager()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "<h1>Staff menu</h1>" in english.get("/staff/").content.decode()


@pytest.mark.django_db
def test_choosing_a_language_that_does_not_exist_changes_nothing(demo_city: object) -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    html = client.get("/").content.decode()
    assert '<html lang="ja">' in html
    assert "その言語は選べません。一覧から選んでください。" in html
    chosen = client.post("/i18n/setlang/", {"language": "ja-x-easy", "next": "/"})
    assert chosen.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja-x-easy"


# --- no Japanese outside the catalogue on the residents' pages --------------------------------

JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u4e00-\u9fff\uff01-\uff60]")
TRANSLATED_PARTS = [
    re.compile(r"\{%\s*blocktrans(?:late)?\b.*?%\}.*?\{%\s*endblocktrans(?:late)?\s*%\}", re.S),
    re.compile(r"\{%\s*trans(?:late)?\s+([\"']).*?\1.*?%\}", re.S),
    re.compile(r"\b_\(\"[^\"]*\"\)"),  # a translated literal in a filter argument
    re.compile(r"\{#.*?#\}", re.S),
    re.compile(r"〒"),  # the postal mark of a Japanese address, read as part of the address
]
# The waiting-room display is bilingual on purpose (Japanese and English side by side, for a
# room of people in many languages); the mails and SMS are composed in Japanese (not yet per
# resident language).
NOT_SWEPT = ("display.html", "/mail/", "/sms/")


def test_resident_templates_keep_no_japanese_outside_translation_tags() -> None:
    """Punctuation, date formats and words of the residents' templates come from the catalogue
    (`core/templatetags/local_text.py`, named date formats), so an English page is English."""
    offenders = []
    for path in languages.resident_source_files():
        text = str(path)
        if path.suffix not in (".html", ".txt") or any(part in text for part in NOT_SWEPT):
            continue
        source = path.read_text(encoding="utf-8")
        for pattern in TRANSLATED_PARTS:
            source = pattern.sub("", source)
        offenders += [
            f"{path.relative_to(languages.PACKAGE_DIR)}: {line.strip()[:80]}"
            for line in source.splitlines()
            if JAPANESE.search(line)
        ]
    assert offenders == []


@pytest.mark.parametrize(
    ("code", "rendered"),
    [
        ("ja", "09:00〜12:00、13:00〜17:15 （夜間）"),
        ("en", "09:00–12:00, 13:00–17:15 (Evening)"),
        ("ko", "09:00~12:00, 13:00~17:15 (야간)"),
    ],
)
def test_ranges_lists_and_brackets_take_each_languages_punctuation(
    code: str, rendered: str
) -> None:
    from django.template import Context, Template

    template = Template(
        "{% load i18n local_text %}{% from_to a b %}{% list_separator %}{% from_to c d %} "
        '{% translate "夜間" as kind %}{% in_brackets kind %}'
    )
    times = {"a": dt.time(9), "b": dt.time(12), "c": dt.time(13), "d": dt.time(17, 15)}
    with translation.override(code):
        assert template.render(Context(times)).replace("  ", " ") == rendered
