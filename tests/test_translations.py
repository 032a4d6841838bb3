"""The English catalogue is complete, and staff pages switch language with the request.

Japanese is the default (the msgids are the Japanese text); English is chosen by
`Accept-Language: en` or the language cookie, through `LocaleMiddleware`.
"""

from __future__ import annotations

import ast
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from madoguchi.demo.city import build_demo_city
from madoguchi.staff.models import StaffUser
from tests.conftest import login_staff

PO = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"
TODAY = dt.date(2026, 11, 26)


def _entries(path: Path) -> list[dict[str, str | bool]]:
    """A tiny .po reader: msgctxt, msgid, msgstr and whether the entry is fuzzy.

    Plural entries (`msgid_plural`, `msgstr[n]`) are read as their first form; obsolete (`#~`)
    entries are skipped.
    """
    entries: list[dict[str, str | bool]] = []
    current: dict[str, str | bool] = {}
    key = ""

    def flush() -> None:
        if "msgid" in current:
            entries.append(dict(current))
        current.clear()

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            if "msgid" in current:
                flush()
            if "fuzzy" in (flag.strip() for flag in line[2:].split(",")):
                current["fuzzy"] = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if key:
                current[key] = str(current.get(key, "")) + ast.literal_eval(line)
        else:
            keyword, _, value = line.partition(" ")
            if keyword == "msgid" and "msgid" in current:
                flush()
            key = {"msgstr[0]": "msgstr"}.get(keyword, keyword)
            if key in ("msgctxt", "msgid", "msgstr"):
                current[key] = ast.literal_eval(value)
            else:
                key = ""
    flush()
    return entries


def test_the_catalogue_has_no_empty_or_fuzzy_entries() -> None:
    entries = [e for e in _entries(PO) if e["msgid"]]
    assert len(entries) > 400
    assert [e["msgid"] for e in entries if not e.get("msgstr")] == []
    assert [e["msgid"] for e in entries if e.get("fuzzy")] == []


def test_the_header_is_not_fuzzy() -> None:
    header = next(e for e in _entries(PO) if e["msgid"] == "")
    assert not header.get("fuzzy")
    assert "Language: en" in str(header["msgstr"])


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext (msgfmt)")
def test_msgfmt_accepts_the_catalogue_with_every_message_translated() -> None:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr


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


@pytest.fixture
def city(time_machine):  # type: ignore[no-untyped-def]
    time_machine.move_to(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC))
    return build_demo_city(residents=200, seed=1, today=TODAY).municipality


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
    city: object, url: str, japanese: str, english: str
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
def test_the_language_cookie_selects_english(city: object) -> None:
    client = _manager()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/staff/issuance/").content.decode()
    assert "Card issuance status" in html
    assert "Find a card" in html
    assert "Counter work (staff)" in html
    assert "カードを探す" not in html


@pytest.mark.django_db
def test_the_english_issuance_dashboard_has_no_untranslated_headings(city: object) -> None:
    html = _manager(accept_language="en").get("/staff/issuance/").content.decode()
    for heading in (
        "Sending card issuance notices (paced to the booking slots)",
        "Weekly summary",
        "Expected card arrivals (from weekly application counts)",
    ):
        assert heading in html
    for japanese in ("段階ごとの枚数", "週ごとのまとめ", "交付通知書の発送"):
        assert japanese not in html
