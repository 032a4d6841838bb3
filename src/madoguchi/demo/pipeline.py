"""The demo city's card pipeline: a few hundred cards delivered over the last weeks, at every stage.

Every stage change goes through the issuance services (so the audit log shows the demo's history);
the step timestamps are then moved back to plausible dates. Some cards are late (waiting more than
14 days for their notice), some unclaimed (reminded, a few destroyed). Deterministic by seed and
idempotent: a second run finds the demo cards and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db.models import Case, F, Value, When

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance import services
from madoguchi.issuance.models import CardRecord, IdDocumentClass, ProxyReason
from madoguchi.offices.models import Municipality
from madoguchi.staff.models import StaffUser

PREFIX = "99999700000000"  # 14 digits + 9-digit serial = a 23-digit application id
"""The first demo city's application ids; each demo city has its own (`card_prefix`)."""
CARDS = 320
FAMILY = [
    ("山田", "ヤマダ"),
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("中村", "ナカムラ"),
]
GIVEN = [
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("陽菜", "ヒナ"),
    ("蓮", "レン"),
    ("美咲", "ミサキ"),
    ("健太", "ケンタ"),
    ("さくら", "サクラ"),
    ("翔", "ショウ"),
]
TOWNS = ["中央一丁目", "北町二丁目", "南台三丁目", "駅前二丁目", "東町四丁目"]


def _when(today: dt.date, days_ago: int) -> dt.datetime:
    return clock.at(today - dt.timedelta(days=max(days_ago, 0)), dt.time(10, 0))


def load_demo_pipeline(
    *,
    municipality: Municipality,
    seed: int,
    today: dt.date,
    prefix: str = PREFIX,
    place: str = "デモ市",
    official: str = "demo-official",
) -> int:
    """Create the demo cards of `municipality` once (application ids starting with `prefix`,
    addresses in `place`, hand-overs by the staff account `official`); returns how many exist."""
    existing = CardRecord.objects.filter(application_id__startswith=prefix)
    if existing.exists():
        return existing.count()
    rng = random.Random(seed)
    actor = Actor.system("demo")
    cards = []
    for index in range(CARDS):
        family, family_kana = rng.choice(FAMILY)
        given, given_kana = rng.choice(GIVEN)
        long_ago = index >= CARDS - 12  # unclaimed for over a year
        days_ago = rng.randint(400, 420) if long_ago else rng.randint(0, 70)
        cards.append(
            CardRecord(
                municipality=municipality,
                application_id=f"{prefix}{index:09d}",
                family_name=family,
                given_name=given,
                family_name_kana=family_kana,
                given_name_kana=given_kana,
                birth_date=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 29_000)),
                postal_code=f"123-{4500 + rng.randint(0, 399):04d}",
                address=f"{place}{rng.choice(TOWNS)}{rng.randint(1, 30)}番{rng.randint(1, 20)}号",
                application_kind=rng.choice(["renewal", "renewal", "new", "reissue"]),
                applied_on=today - dt.timedelta(days=days_ago + rng.randint(25, 55)),
                previous_card_expires_on=today + dt.timedelta(days=rng.randint(-20, 200)),
                delivered_on=today - dt.timedelta(days=days_ago),
            )
        )
    CardRecord.objects.bulk_create(cards)
    cards = list(CardRecord.objects.filter(application_id__startswith=prefix).order_by("pk"))
    age = {c.pk: (today - c.delivered_on).days for c in cards}
    # Inspected: everything older than 2 days, except a few defects.
    defects = [c for c in cards if age[c.pk] > 2][:4]
    for card in defects:
        services.mark_card_defective(card=card, reason="ICチップ読み取り不可（デモ）", actor=actor)
    services.return_card_to_jlis(card=defects[0], actor=actor)
    inspect = [c for c in cards if age[c.pk] > 2 and c not in defects]
    services.inspect_cards(cards=inspect, actor=actor)
    # Set up: older than 4 days, except a late group (15–20 days) stuck before set-up.
    setup = [c for c in inspect if age[c.pk] > 4 and not 15 <= age[c.pk] <= 20]
    services.record_cards_setup(cards=setup, terminal=None, actor=actor)
    # Notices: older than 9 days (some 10–14 day cards still wait: at risk).
    noticed = [c for c in setup if age[c.pk] > 9 and not (10 <= age[c.pk] <= 12)]
    services.issue_notices(cards=noticed, actor=actor, municipality=municipality)
    handing = StaffUser.objects.filter(username=official, municipality=municipality).first()
    handed = [c for c in noticed if 25 <= age[c.pk] <= 60 and c.pk % 3 != 0]
    if handing is not None:
        for card in handed:
            # The service locks and re-reads the card itself; its municipality is this one.
            card.municipality = municipality
            services.hand_over_card(
                card=card,
                actor=Actor.staff(handing),
                staff_user=handing,
                is_proxy=card.pk % 11 == 0,
                id_document_class=(
                    IdDocumentClass.TWO_OTHER if card.pk % 7 == 0 else IdDocumentClass.ONE_PHOTO
                ),
                proxy_reason=ProxyReason.AGED_75_OR_OLDER if card.pk % 11 == 0 else "",
            )
    unclaimed = [c for c in noticed if age[c.pk] > 60 and c not in handed]
    # The history is written today and its dates moved back afterwards (`_backdate`).
    services.send_reminders(
        cards=unclaimed, actor=actor, municipality=municipality, require_due=False
    )
    _backdate(cards, age, today)
    policy = services.policy_for(municipality)
    for card in CardRecord.objects.filter(
        pk__in=[c.pk for c in unclaimed], delivered_on__lt=today - dt.timedelta(days=300)
    )[:4]:
        due = services.destroy_due_on(card, policy)
        if due is not None and due <= today:
            services.destroy_card(card=card, actor=actor, staff_user=None)
    return CardRecord.objects.filter(application_id__startswith=prefix).count()


STEPS = (
    "inspected_at",
    "defective_at",
    "returned_at",
    "setup_done_at",
    "notice_issued_at",
    "first_notice_issued_at",
    "handed_over_at",
    "reminded_at",
)
"""The step timestamps `_backdate` moves back."""


def _backdate(cards: list[CardRecord], age: dict[int, int], today: dt.date) -> None:
    """Move step timestamps back to when the steps would have happened (status untouched)."""
    moved: dict[str, dict[dt.datetime, list[int]]] = {}
    for pk, *stamps in CardRecord.objects.filter(pk__in=[c.pk for c in cards]).values_list(
        "pk", *STEPS
    ):
        days = age[pk]
        steps = {
            "inspected_at": days - 1,
            "defective_at": days - 1,
            "returned_at": days - 3,
            "setup_done_at": days - 2,
            "notice_issued_at": days - rng_offset(pk),
            "first_notice_issued_at": days - rng_offset(pk),
            "handed_over_at": days - 20,
            "reminded_at": max(days - 60, 0) if days > 300 else 0,
        }
        for name, stamp in zip(STEPS, stamps, strict=True):
            if stamp is not None:
                moved.setdefault(name, {}).setdefault(_when(today, steps[name]), []).append(pk)
    # One UPDATE per step, its cards' dates chosen by a CASE over the dates (a few dozen each):
    # an UPDATE per step and date was a few hundred statements, bulk_update's CASE over every
    # card and step cost seconds of expression building.
    for name, dates in moved.items():
        CardRecord.objects.filter(pk__in=[pk for pks in dates.values() for pk in pks]).update(
            **{
                name: Case(
                    *(When(pk__in=pks, then=Value(when)) for when, pks in dates.items()),
                    default=F(name),
                )
            }
        )


def rng_offset(pk: int) -> int:
    """Days from arrival to notice: mostly within the week, some late (up to 16 days)."""
    return 4 + pk % 7 if pk % 9 else 15 + pk % 2
