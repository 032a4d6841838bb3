"""The languages the site offers and whether each catalogue carries every message it must.

Japanese is the source language: the msgids are the Japanese text. Two scopes (docs/languages.md):

- **Residents' messages** — every msgid in `RESIDENT_SOURCES` (the residents' pages, the queue
  pages and kiosk, the mails, the printed slip and the notice's guidance, the services' and
  forms' messages residents read, the choice labels they see). Every language in
  `settings.LANGUAGES` must translate all of them.
- **Everything else** (staff pages, the admin) — Japanese and English only
  (`settings.STAFF_LANGUAGES`): the English catalogue must translate every msgid it holds.

`missing_translations(code)` lists what a catalogue lacks: a resident message absent or
untranslated, a fuzzy entry, or a translation whose placeholders (`%(name)s`, `%s`, `{name}`) or
HTML tags differ from the msgid's. `madoguchi check-translations` prints it;
tests/test_translations.py fails on it. The residents' msgids are extracted exactly as
`makemessages` extracts them (Django's `templatize`, then GNU xgettext with the same keywords).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, to_locale
from django.utils.translation.template import templatize

PACKAGE_DIR = Path(__file__).resolve().parent.parent

RESIDENT_SOURCES: tuple[str, ...] = (
    # pages and their layout
    "templates/base.html",
    "templates/error.html",
    "templates/400.html",
    "templates/403_csrf.html",
    "templates/404.html",
    "resident_site/*.py",
    "resident_site/templates/**/*.html",
    "queue_board/*.py",
    "queue_board/templates/**/*.html",
    # booking: the form, the services' refusals, what a visit is, the mails
    "reservations/*.py",
    "reservations/templates/**/*.html",
    "reservations/templates/**/*.txt",
    # hours, procedures and sites as residents read them; the queue's messages and its slip
    "offices/models.py",
    "offices/hours_text.py",
    "offices/calendar.py",
    "walkins/models.py",
    "walkins/services.py",
    "api/walkins.py",  # a walk-in ticket's answers are in its language
    "api/public.py",  # a booking's answers are in its language (or the request's)
    "api/urls.py",  # the API's own errors, in the request's language
    "staff_console/templates/walkins/slip.html",
    # the notice's guidance and the proxy reasons
    "issuance/models.py",
    "issuance/notices.py",
    # a booking's refusals of a card (booked already, handed over, destroyed)
    "issuance/booking_refusals.py",
    # refusals any page can give
    "core/forms.py",
    "core/individual_number.py",
    "core/middleware.py",
    "core/ratelimit.py",
    "core/views.py",
    "core/templatetags/local_text.py",
)
"""Where the messages residents read come from (globs under src/madoguchi). Keep it in step
with docs/languages.md."""

XGETTEXT = [
    "xgettext",
    "-d",
    "django",
    "--language=Python",
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
    "--output=-",
    "--from-code=UTF-8",
    "--no-location",
    "--no-wrap",
]
"""makemessages' own xgettext call for the "django" domain."""


def offered_language(code: str) -> str | None:
    """The code in `settings.LANGUAGES` that `code` names (any letter case, `_` or `-`), or
    None when the site does not offer it."""
    wanted = code.strip().replace("_", "-").lower()
    for offered, _name in settings.LANGUAGES:
        if offered.lower() == wanted:
            return str(offered)
    return None


def requested_language(request: HttpRequest) -> str:
    """The language an API request names (`language` in its query, else in its JSON body) when
    the site offers it, else Japanese: what an error raised before the view runs answers in (a
    validation error, `api/urls.py`; a path without a municipality, `offices.tenancy`)."""
    code = request.GET.get("language")
    if code is None and request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        language = body.get("language") if isinstance(body, dict) else None
        code = language if isinstance(language, str) else None
    offered = offered_language(code) if code is not None and len(code) <= 20 else None
    return offered or str(settings.LANGUAGE_CODE)


def validate_offered_language(code: str) -> None:
    """Model-field validator: `code` must be a language code in `settings.LANGUAGES`."""
    if offered_language(code) != code:
        raise ValidationError(
            gettext("提供していない言語コードです（使えるコード: %(codes)s）。")
            % {"codes": ", ".join(c for c, _n in settings.LANGUAGES)}
        )


STAFF_LANGUAGE_NAMES: dict[str, Promise] = {
    "ja": gettext_lazy("日本語"),
    "ja-x-easy": gettext_lazy("やさしい日本語"),
    "en": gettext_lazy("英語"),
    "zh-hans": gettext_lazy("中国語（簡体字）"),
    "ko": gettext_lazy("韓国語"),
    "vi": gettext_lazy("ベトナム語"),
    "pt-br": gettext_lazy("ポルトガル語"),
}
"""Each offered language as the staff pages name it (in Japanese, English on English staff
pages), where residents' pages name a language in itself (settings.LANGUAGES)."""


def language_for_staff(code: str) -> str:
    """The language `code` named for the clerk (日本語, 英語, ベトナム語, …); the code itself for
    one the site does not name."""
    offered = offered_language(code or settings.LANGUAGE_CODE)
    name = STAFF_LANGUAGE_NAMES.get(offered or "")
    return str(name) if name is not None else code


STAFF_PATH_PREFIXES = ("/staff/", "/admin/")
"""Pages in the staff languages only (settings.STAFF_LANGUAGES)."""

MessageKey = tuple[str, str]
"""(msgctxt, msgid); msgctxt is "" without a context."""

_PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdifr]|%[sdifr]|\{[A-Za-z_][A-Za-z0-9_]*\}")
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")


@dataclass
class Entry:
    """One message of a .po file (plural forms kept as a list)."""

    msgid: str
    msgctxt: str = ""
    msgid_plural: str = ""
    msgstrs: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def key(self) -> MessageKey:
        return (self.msgctxt, self.msgid)


def _plural_index(keyword: str) -> int:
    return int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header included (msgid ""); obsolete (`#~`) entries skipped."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    fuzzy = False
    last = ""

    def flush() -> None:
        nonlocal fuzzy
        if "msgid" in fields:
            strs = sorted((k for k in fields if k.startswith("msgstr")), key=_plural_index)
            entries.append(
                Entry(
                    msgid=fields["msgid"],
                    msgctxt=fields.get("msgctxt", ""),
                    msgid_plural=fields.get("msgid_plural", ""),
                    msgstrs=[fields[k] for k in strs],
                    fuzzy=fuzzy,
                )
            )
        fields.clear()
        fuzzy = False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith('"'):
            fields[last] += ast.literal_eval(line)
            continue
        starts_entry = not line or line.startswith(("#", "msgctxt ", "msgid "))
        if starts_entry and "msgid" in fields:
            flush()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in (f.strip() for f in line[2:].split(",")):
                fuzzy = True
            continue
        last, _, rest = line.partition(" ")
        fields[last] = ast.literal_eval(rest)
    flush()
    return entries


def catalogue_path(code: str) -> Path:
    """The .po file of language `code` (ja-x-easy → locale/ja_X-easy/LC_MESSAGES/django.po)."""
    return Path(settings.LOCALE_PATHS[0]) / to_locale(code) / "LC_MESSAGES" / "django.po"


def resident_source_files() -> list[Path]:
    files: set[Path] = set()
    for pattern in RESIDENT_SOURCES:
        files.update(p for p in PACKAGE_DIR.glob(pattern) if p.is_file())
    return sorted(files)


@cache
def resident_messages() -> frozenset[MessageKey]:
    """Every (msgctxt, msgid) in the residents' sources, extracted as makemessages does."""
    with tempfile.TemporaryDirectory() as tmp:
        inputs: list[str] = []
        for number, path in enumerate(resident_source_files()):
            if path.suffix == ".py":
                inputs.append(str(path))
                continue
            work = Path(tmp) / f"{number}-{path.name}.py"
            work.write_text(templatize(path.read_text(encoding="utf-8"), origin=str(path)))
            inputs.append(str(work))
        result = subprocess.run(  # noqa: S603 (a fixed program on the package's own files)
            [*XGETTEXT, *inputs], capture_output=True, text=True, check=True, encoding="utf-8"
        )
        pot = Path(tmp) / "resident.pot"
        pot.write_text(result.stdout, encoding="utf-8")
        return frozenset(e.key for e in read_po(pot) if e.msgid)


def placeholders(text: str) -> Counter[str]:
    return Counter(_PLACEHOLDER.findall(text))


def tags(text: str) -> Counter[str]:
    return Counter(name.lower() for name in _TAG.findall(text))


@dataclass(frozen=True)
class Finding:
    language: str
    msgid: str
    problem: str

    def __str__(self) -> str:
        return f"{self.language}: {self.problem}: {self.msgid!r}"


def missing_translations(code: str, path: Path | None = None) -> list[Finding]:
    """What the catalogue of `code` (at `path`, else where Django reads it) lacks: empty when
    complete. A staff language (English) must translate every msgid it holds; every offered
    language must translate every residents' message. The source language has no catalogue."""
    if code == settings.LANGUAGE_CODE:
        return []
    path = path or catalogue_path(code)
    if not path.exists():
        return [Finding(code, "", f"no catalogue at {path}")]
    entries = read_po(path)
    findings: list[Finding] = []
    header = next((e for e in entries if e.msgid == ""), None)
    if header is None or header.fuzzy:
        findings.append(Finding(code, "", "the header is missing or fuzzy"))
    elif f"Language: {to_locale(code)}\n" not in header.msgstrs[0]:
        findings.append(Finding(code, "", f"the header does not say Language: {to_locale(code)}"))
    by_key = {e.key: e for e in entries if e.msgid}
    required = set(resident_messages())
    if code in settings.STAFF_LANGUAGES:
        required |= set(by_key)
    for key in sorted(required):
        entry = by_key.get(key)
        if entry is None:
            findings.append(Finding(code, key[1], "not in the catalogue (run makemessages)"))
        elif not entry.msgstrs or not all(entry.msgstrs):
            findings.append(Finding(code, key[1], "not translated"))
        elif entry.fuzzy:
            findings.append(Finding(code, key[1], "fuzzy"))
    for entry in by_key.values():
        if not entry.msgstrs or not all(entry.msgstrs) or entry.fuzzy:
            continue
        sources = [entry.msgid, entry.msgid_plural or entry.msgid]
        for number, translated in enumerate(entry.msgstrs):
            source = sources[min(number, 1)]
            if placeholders(translated) != placeholders(source) and not (
                entry.msgid_plural and placeholders(translated) <= placeholders(source)
            ):
                findings.append(Finding(code, entry.msgid, "placeholders differ"))
            elif tags(translated) != tags(source):
                findings.append(Finding(code, entry.msgid, "HTML tags differ"))
    return findings


def offered_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def translated_languages() -> list[str]:
    """The offered languages that have a catalogue (all but the source language, Japanese)."""
    return [code for code in offered_languages() if code != settings.LANGUAGE_CODE]


def is_staff_path(path: str) -> bool:
    return path.startswith(STAFF_PATH_PREFIXES)
