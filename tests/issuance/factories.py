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
    """The personas' home municipality (tests/personas.py) unless overridden."""
    from tests.personas import HOME_CODE, HOME_NAME

    fields: dict[str, Any] = {"code": HOME_CODE, "name": HOME_NAME}
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
        "address": "みどり市中央一丁目2番3号",
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


DELIVERIES_CSV = "\n".join(
    [
        "application_id,delivered_on,family_name,given_name,family_name_kana,given_name_kana,"
        "birth_date,postal_code,address,application_kind",
        "90210358112040000000101,2026-11-20,山田,花子,ヤマダ,ハナコ,1986-04-12,123-4567,"
        "デモ市中央一丁目2番3号,renewal",
        "90210358112040000000102,2026-11-20,佐藤,一郎,サトウ,イチロウ,1949-10-30,1234568,"
        "デモ市北町5番地の1,renewal",
        "90210358112040000000103,2026-11-20,鈴木,陽菜,ｽｽﾞｷ,ﾋﾅ,2019-02-07,123-4569,"
        "デモ市南台3-4-5 グリーンハイツ201,new",
        "90210358112040000000104,2026-11-20,GARCIA,MARIA,ガルシア,マリア,1990-08-21,123-4560,"
        "デモ市駅前二丁目8番,reissue",
        "",
    ]
)
"""Four synthetic delivery rows in the contract's format (one with half-width kana)."""
