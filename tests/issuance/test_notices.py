"""Notices: paced by free card_pickup seats; the PDF carries names, numbers and the QR payload."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any, cast

import pytest
from django.apps import apps
from django.core.management import call_command
from pypdf import PdfReader

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardStatus
from madoguchi.issuance.notices import notice_context, render_notices_pdf
from madoguchi.issuance.numbers import (
    PREFIX_ALPHABET,
    format_notice_number,
    generate_notice_number,
    normalize_notice_number,
)
from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.reservations.pacing import issue_paced_batch, propose_batch
from tests.frozen_clock import CARDS_NOW
from tests.issuance import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(CARDS_NOW),
    pytest.mark.usefixtures("frozen"),
]
SYSTEM = Actor.system("test")


def slots(owner: Municipality, *, seats: int, booked: int = 0, days_ahead: int = 3) -> None:
    slot_model = apps.get_model("reservations", "Slot")
    pickup, _ = Procedure.objects.get_or_create(
        code="card_pickup", defaults={"name": "カードの受け取り", "duration_minutes": 20}
    )
    site = Site.objects.create(municipality=owner, name="本庁舎", kind="main_office", address="1")
    site.procedures.add(pickup)
    starts = clock.at(clock.today() + dt.timedelta(days=days_ahead), dt.time(9, 0))
    slot_model.objects.create(
        site=site,
        procedure=pickup,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=20),
        capacity=seats,
        booked=booked,
    )


def test_booking_numbers_are_three_safe_characters_and_six_digits() -> None:
    numbers = {generate_notice_number() for _ in range(2000)}
    assert len(numbers) == 2000
    for number in numbers:
        assert len(number) == 9 and number[3:].isdigit()
        assert all(c in PREFIX_ALPHABET for c in number[:3])
        assert any(c.isalpha() for c in number[:3])
        assert not set(number[:3]) & set("OI01")
    assert format_notice_number("K7Q482913") == "K7Q-482913"
    assert normalize_notice_number(" k7q－４８２９１３ ") == "K7Q482913"
    assert normalize_notice_number("123456789012") == ""


def test_the_batch_never_exceeds_free_seats_minus_notices_already_out() -> None:
    owner = factories.municipality()
    slots(owner, seats=10, booked=3)  # 7 free
    slots(owner, seats=50, days_ahead=40)  # outside the 4-week horizon
    for _ in range(2):
        factories.card(owner, status=CardStatus.NOTICE_ISSUED)
    for _ in range(9):
        factories.card(owner, status=CardStatus.SETUP_DONE)
    proposal = propose_batch(municipality=owner)
    assert (proposal.free_seats, proposal.outstanding_notices, proposal.room) == (7, 2, 5)
    assert proposal.proposed == 5
    assert "7 − 2 = 5" in "\n".join(proposal.explanation())
    assert propose_batch(municipality=owner, limit=3).proposed == 3


def test_without_free_seats_no_notice_goes_out() -> None:
    owner = factories.municipality()
    factories.card(owner, status=CardStatus.SETUP_DONE)
    issued = issue_paced_batch(municipality=owner, actor=SYSTEM)
    assert issued.cards == [] and issued.batch_id is None


def test_issuing_gives_each_card_a_unique_number_oldest_arrival_first() -> None:
    owner = factories.municipality()
    slots(owner, seats=2)
    old = factories.card(owner, status=CardStatus.SETUP_DONE, delivered_on=dt.date(2026, 11, 10))
    factories.card(owner, status=CardStatus.SETUP_DONE, delivered_on=dt.date(2026, 11, 25))
    middle = factories.card(owner, status=CardStatus.SETUP_DONE, delivered_on=dt.date(2026, 11, 20))
    issued = issue_paced_batch(municipality=owner, actor=SYSTEM)
    assert [c.pk for c in issued.cards] == [old.pk, middle.pk]
    assert all(c.status == CardStatus.NOTICE_ISSUED and c.notice_number for c in issued.cards)
    assert len({c.notice_number for c in issued.cards}) == 2


def test_the_pdf_reads_back_with_names_numbers_address_and_qr_payload(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://yoyaku.example.jp"
    owner = factories.municipality()
    slots(owner, seats=5)
    factories.card(
        owner,
        status=CardStatus.SETUP_DONE,
        family_name="佐藤",
        given_name="一郎",
        postal_code="123-4568",
        address="みどり市北町5番地の1",
    )
    factories.card(owner, status=CardStatus.SETUP_DONE, family_name="GARCIA", given_name="MARIA")
    issued = issue_paced_batch(municipality=owner, actor=SYSTEM)
    out = io.BytesIO()
    render_notices_pdf(issued.cards, out, context=notice_context(owner))
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert len(reader.pages) == 2
    for page, card in zip(reader.pages, issued.cards, strict=True):
        text = page.extract_text()
        number = card.notice_number or ""
        url = f"https://yoyaku.example.jp/book/card_pickup/?notice={number}"
        assert format_notice_number(number) in text
        assert card.family_name in text and card.given_name in text
        assert f"〒{card.postal_code}" in text and card.address in text
        assert url in text  # printed under the QR code
        links = [a.get_object()["/A"]["/URI"] for a in cast(list[Any], page["/Annots"])]
        assert links == [url]  # and attached to it
        assert "委任状" in text and "受け取り期限" in text
    assert "佐藤" in reader.pages[0].extract_text()


def test_the_notices_command_writes_pdf_and_mailing_csv(tmp_path: Path) -> None:
    owner = factories.municipality()
    slots(owner, seats=3)
    for _ in range(4):
        factories.card(owner, status=CardStatus.SETUP_DONE)
    out = io.StringIO()
    call_command("notices", "--out", str(tmp_path / "n.pdf"), "--limit", "2", stdout=out)
    assert len(PdfReader(tmp_path / "n.pdf").pages) == 2
    rows = (tmp_path / "n.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("page,notice_number,postal_code,address")
    assert len(rows) == 3
    assert "今回の発送数: 2通" in out.getvalue()
    assert owner.cards.filter(status=CardStatus.NOTICE_ISSUED).count() == 2
