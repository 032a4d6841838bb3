"""Small builders for offices data in tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from django.conf import settings

from madoguchi.offices.models import (
    Counter,
    Municipality,
    OpeningSession,
    Procedure,
    SessionKind,
    Site,
    SiteKind,
    Terminal,
    Translatable,
)

OTHER_LANGUAGES: tuple[str, ...] = tuple(
    code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE
)
"""Every offered language but Japanese (the source language): the ones `translations` holds."""

T = TypeVar("T", bound=Translatable)


def translated(text: str, language: str) -> str:
    """What `translations_for` gives a field in `language` for `text`: the text marked with the
    language's code, so that a page or answer in the wrong language cannot pass for it."""
    return f"{text} [{language}]"


def translations_for(obj: T, /, **texts: str | Mapping[str, str]) -> T:
    """Gives `obj` the fields of `texts` in other languages, checked as the admin checks them
    (`clean_translations`), and saves it: a text given as a str in every offered language but
    Japanese, as `translated(text, code)`; a ``{language: text}`` mapping in those languages only.

    ``translations_for(site, name="Main office")`` names a site in every other language.
    """
    entries: dict[str, dict[str, str]] = {}
    for field, text in texts.items():
        per_language = (
            {code: translated(text, code) for code in OTHER_LANGUAGES}
            if isinstance(text, str)
            else text
        )
        for code, value in per_language.items():
            entries.setdefault(code, {})[field] = value
    obj.translations = entries
    obj.clean_translations()
    obj.save()
    return obj


def municipality(**overrides: Any) -> Municipality:
    """The personas' home municipality (tests/personas.py) unless overridden."""
    from tests.personas import HOME_CODE, HOME_NAME

    fields: dict[str, Any] = {"code": HOME_CODE, "name": HOME_NAME}
    fields.update(overrides)
    return Municipality.objects.create(**fields)


def procedure(code: str = "card_pickup", **overrides: Any) -> Procedure:
    defaults: dict[str, Any] = {
        "card_pickup": {
            "name": "カードの受け取り",
            "duration_minutes": 20,
            "proxy_allowed": True,
            "allowed_site_kinds": [k for k in SiteKind.values if k != SiteKind.POST_OFFICE],
        },
        "cert_renewal": {"name": "電子証明書の更新", "duration_minutes": 10},
        "card_application": {
            "name": "カードの申請",
            "duration_minutes": 15,
            "needs_terminal": False,
        },
        "pin_reset": {"name": "暗証番号の再設定", "duration_minutes": 10},
    }.get(code, {"name": code, "duration_minutes": 15})
    defaults.update(overrides)
    obj, _ = Procedure.objects.update_or_create(code=code, defaults=defaults)
    return obj


def site(
    owner: Municipality,
    *,
    kind: str = SiteKind.MAIN_OFFICE,
    counters: int = 2,
    terminals: int = 2,
    weekday_hours: tuple[str, str] | None = ("08:30", "17:15"),
    **overrides: Any,
) -> Site:
    fields: dict[str, Any] = {"name": f"{kind} site", "kind": kind, "address": "みどり市1-1"}
    fields.update(overrides)
    created = Site.objects.create(municipality=owner, **fields)
    for n in range(counters):
        Counter.objects.create(site=created, name=f"{n + 1}番")
    for n in range(terminals):
        Terminal.objects.create(site=created, name=f"端末{n + 1}")
    if weekday_hours:
        for weekday in range(5):
            OpeningSession.objects.create(
                site=created,
                weekday=weekday,
                kind=SessionKind.WEEKDAY,
                starts_at_time=dt.time.fromisoformat(weekday_hours[0]),
                ends_at_time=dt.time.fromisoformat(weekday_hours[1]),
                counters_open=counters,
            )
    return created
