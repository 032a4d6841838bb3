"""Normalising what residents type: full-width digits, half-width katakana, hiragana, spaces.

Every function returns the canonical form or raises DomainError (422) with a Japanese message.
Input carrying a 12-digit Individual Number is refused before anything else (invariant 2).
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from madoguchi.core.errors import DomainError
from madoguchi.core.individual_number import INDIVIDUAL_NUMBER_REFUSAL, contains_individual_number
from madoguchi.core.text import compact
from madoguchi.issuance import numbers

_KATAKANA_NAME = re.compile(r"^[ァ-ヶー・ヽヾ]+$")
_PHONE = re.compile(r"^0\d{9,10}$")
_CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"
_RESERVATION_CODE = re.compile(rf"^[{_CODE_ALPHABET}]{{10}}$")


def refuse_individual_number(*values: str | None) -> None:
    """Raise 422 `individual_number` when any value carries a 12-digit Individual Number."""
    for value in values:
        if value and contains_individual_number(value):
            raise DomainError("individual_number", str(INDIVIDUAL_NUMBER_REFUSAL))


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def normalize_notice_number(value: str) -> str:
    """`abc-123456`, `ＡＢＣ１２３４５６` → `ABC123456` (`issuance.numbers`' normaliser);
    raises 422 `invalid_notice_number` when it cannot be one."""
    refuse_individual_number(value)
    text = numbers.normalize_notice_number(value)
    if not text:
        raise DomainError(
            "invalid_notice_number",
            _("交付通知書番号は、英数字3文字と数字6桁（例：ABC123456）で入力してください。"),
        )
    return text


def normalize_kana(value: str, *, field: str) -> str:
    """Hiragana, half-width katakana and spaces → full-width katakana without spaces."""
    refuse_individual_number(value)
    text = re.sub(r"\s+", "", nfkc(value))
    text = "".join(
        chr(ord(ch) + 0x60) if "\u3041" <= ch <= "\u3096" or ch in "ゝゞ" else ch for ch in text
    )
    if not text or len(text) > 60 or not _KATAKANA_NAME.match(text):
        raise DomainError(
            "invalid_kana",
            _("%(field)sはカタカナ（またはひらがな）で入力してください。") % {"field": _(field)},
        )
    return text


def normalize_phone(value: str) -> str:
    """Digits only (`03-1234-5678`, full-width too); raises 422 `invalid_phone`."""
    refuse_individual_number(value)
    text = re.sub(r"[\s\-‐－ー()（）]", "", nfkc(value))
    if not _PHONE.match(text):
        raise DomainError(
            "invalid_phone", _("電話番号は0から始まる10桁または11桁の数字で入力してください。")
        )
    return text


def normalize_mobile(value: str) -> str:
    """A mobile number for SMS: digits only, 070/080/090 and 8 more digits (`+81 90-…` is
    accepted too); raises 422 `invalid_mobile`."""
    refuse_individual_number(value)
    text = re.sub(r"[\s\-‐－ー()（）]", "", nfkc(value))
    if text.startswith("+81"):
        text = "0" + text[3:]
    if not re.fullmatch(r"0[789]0\d{8}", text):
        raise DomainError(
            "invalid_mobile",
            _(
                "携帯電話番号は070・080・090で始まる11桁の数字で入力してください（例：090-1234-5678）。"
            ),
        )
    return text


def normalize_email(value: str) -> str:
    """Lower-cased domain, NFKC; raises 422 `invalid_email` on anything that is not an address."""
    refuse_individual_number(value)
    text = nfkc(value)
    local, _at, domain = text.rpartition("@")
    if (
        not local
        or not domain
        or "." not in domain
        or len(text) > 254
        or re.search(r"[\s<>\"(),;:\\\[\]]", text)
    ):
        raise DomainError("invalid_email", _("メールアドレスの形式が正しくありません。"))
    return f"{local}@{domain.lower()}"


def normalize_reservation_code(value: str) -> str:
    """`abcd-efgh-jk`, `ＡＢＣＤ ＥＦＧＨ ＪＫ` → `ABCDEFGHJK`; anything that cannot be a code
    becomes "" (never matches). THE normaliser of booking codes: look-ups, forms, the API and
    the rate-limit keys all use it, so every spelling of one code shares one counter."""
    text = compact(value)
    return text if _RESERVATION_CODE.match(text) else ""


CODE_ALPHABET = _CODE_ALPHABET
