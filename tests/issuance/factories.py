"""Builders for card records in tests."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from madoguchi.core import clock
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.issuance.numbers import generate_notice_number
from madoguchi.offices.models import Municipality
from madoguchi.staff.models import Role, StaffUser

_serial = itertools.count(1)


def municipality(**overrides: Any) -> Municipality:
    fields: dict[str, Any] = {"code": "131041", "name": "テスト区"}
    fields.update(overrides)
    obj, _ = Municipality.objects.get_or_create(code=fields.pop("code"), defaults=fields)
    return obj


def card(owner: Municipality | None = None, **overrides: Any) -> CardRecord:
    """A card record; pass status=... to place it at a stage (with that stage's stamps)."""
    owner = owner or municipality()
    n = next(_serial)
    status = overrides.pop("status", CardStatus.DELIVERED)
    fields: dict[str, Any] = {
        "municipality": owner,
        "application_id": f"{90210358112040000000000 + n:023d}",
        "family_name": "山田",
        "given_name": "花子",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "birth_date": dt.date(1986, 4, 12),
        "postal_code": "123-4567",
        "address": "テスト区中央一丁目2番3号",
        "application_kind": "renewal",
        "delivered_on": clock.today() - dt.timedelta(days=3),
        "status": status,
    }
    if status in (
        CardStatus.NOTICE_ISSUED,
        CardStatus.BOOKED,
        CardStatus.REMINDED,
        CardStatus.HANDED_OVER,
    ):
        fields["notice_number"] = generate_notice_number()
        fields["notice_issued_at"] = clock.now()
        fields["first_notice_issued_at"] = clock.now()
    if status == CardStatus.REMINDED:
        fields["reminded_at"] = clock.now()
    fields.update(overrides)
    return CardRecord.objects.create(**fields)


def staff(role: str = Role.OFFICIAL, owner: Municipality | None = None, **kw: Any) -> StaffUser:
    name = kw.pop("username", f"{role}-{next(_serial)}")
    user = StaffUser.objects.create_user(
        username=name, password="pw-for-tests", role=role, municipality=owner, **kw
    )
    return user
