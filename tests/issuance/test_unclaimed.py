"""Unclaimed cards: reminder letters when due (PDF + mailing CSV, paced), the destruction list,
and destruction recorded with the official who did it."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import FileResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.issuance import services, unclaimed
from madoguchi.issuance.models import BatchKind, CardRecord, CardStatus, NoticeBatch
from madoguchi.offices.models import Municipality
from madoguchi.reservations import pacing
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import login_staff
from tests.frozen_clock import CARDS_NOW
from tests.issuance import factories
from tests.issuance.test_notices import slots

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(CARDS_NOW),
    pytest.mark.usefixtures("frozen"),
]
SYSTEM = Actor.system("test")
TODAY = dt.date(2026, 11, 27)
STATEMENTS_OF_A_REMINDER_BATCH = 9


def noticed(owner: Municipality, days_ago: int, **fields: object) -> CardRecord:
    at = clock.now() - dt.timedelta(days=days_ago)
    return factories.card(
        owner,
        status=CardStatus.NOTICE_ISSUED,
        notice_issued_at=at,
        first_notice_issued_at=at,
        **fields,
    )


def test_only_cards_past_the_reminder_period_are_due() -> None:
    owner = factories.municipality()
    due = noticed(owner, 60)  # notice + 60 days (the default) = today
    noticed(owner, 59)
    booked = noticed(owner, 90)
    CardRecord.objects.filter(pk=booked.pk).update(status=CardStatus.BOOKED)
    assert list(unclaimed.cards_due_for_reminder(owner.pk, today=TODAY)) == [due]


def test_a_reminder_batch_prints_letters_and_moves_the_cards_paced_by_free_seats() -> None:
    owner = factories.municipality()
    slots(owner, seats=3)
    already = noticed(owner, 200)
    services.send_reminders(cards=[already], actor=SYSTEM, municipality=owner)
    oldest, middle, _newest = (noticed(owner, d) for d in (90, 80, 70))
    proposal = pacing.propose_reminders(municipality=owner)
    # 3 free seats − 1 card reminded and not booked = room for 2 of the 3 due.
    assert (proposal.due, proposal.room, proposal.proposed) == (3, 2, 2)
    sent = pacing.issue_reminder_batch(municipality=owner, actor=SYSTEM)
    assert [c.pk for c in sent.cards] == [oldest.pk, middle.pk]
    assert sent.batch_id is not None
    batch = NoticeBatch.objects.get(pk=sent.batch_id)
    assert batch.kind == BatchKind.REMINDER and batch.cards == 2
    assert all(
        c.status == CardStatus.REMINDED and c.reminder_batch_id == batch.pk for c in sent.cards
    )
    assert AuditEvent.objects.filter(action="card.remind").count() == 3


def test_a_reminder_batch_reads_the_issuance_policy_once() -> None:
    """The proposal, the cards due and the letters' due check share one read of the policy
    (it was read three times), and the batch takes a fixed number of statements."""
    owner = factories.municipality()
    slots(owner, seats=3)
    services.policy_for(owner)  # the policy's row exists, as after the first use
    noticed(owner, 90), noticed(owner, 80)
    with CaptureQueriesContext(connection) as captured:
        sent = pacing.issue_reminder_batch(municipality=owner, actor=SYSTEM)
    assert len(sent.cards) == 2
    sql = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    assert [s for s in sql if 'FROM "issuance_issuancepolicy"' in s] == sql[:1]
    assert len(sql) == STATEMENTS_OF_A_REMINDER_BATCH, sql


def test_with_no_due_card_the_batch_is_empty_and_nothing_is_created() -> None:
    owner = factories.municipality()
    slots(owner, seats=5)
    noticed(owner, 10)
    sent = pacing.issue_reminder_batch(municipality=owner, actor=SYSTEM)
    assert sent.batch_id is None and sent.cards == []
    assert not NoticeBatch.objects.exists()


def test_a_reminder_before_its_date_is_refused_with_the_date() -> None:
    owner = factories.municipality()
    card = noticed(owner, 10)
    with pytest.raises(DomainError) as refused:
        services.send_reminders(cards=[card], actor=SYSTEM, municipality=owner)
    assert refused.value.status == 409
    assert "2027-01-16" in refused.value.message
    card.refresh_from_db()
    assert card.status == CardStatus.NOTICE_ISSUED and not NoticeBatch.objects.exists()


def test_the_reminder_letter_reads_back_as_a_reminder_with_the_destruction_deadline() -> None:
    owner = factories.municipality()
    slots(owner, seats=5)
    noticed(owner, 61, family_name="鈴木")
    sent = pacing.issue_reminder_batch(municipality=owner, actor=SYSTEM)
    official = StaffUser.objects.create_user(
        "official", password="x", role=Role.OFFICIAL, municipality=owner
    )
    client = Client()
    login_staff(client, official)
    pdf = client.get(f"/staff/issuance/notices/{sent.batch_id}/notices.pdf")
    assert isinstance(pdf, FileResponse)
    text = PdfReader(io.BytesIO(b"".join(pdf.streaming_content))).pages[0].extract_text()
    assert "再通知" in text and "鈴木" in text
    # After a reminder the card may be destroyed 3 months later (the default rule).
    assert "受け取り期限：2027年2月27日（土）まで" in text
    mailing = client.get(f"/staff/issuance/notices/{sent.batch_id}/mailing.csv")
    rows = mailing.content.decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and "鈴木" in rows[1]


def test_the_notices_command_sends_due_reminders_or_says_there_are_none(tmp_path: Path) -> None:
    owner = factories.municipality()
    slots(owner, seats=5)
    out = io.StringIO()
    call_command("notices", "--reminders", "--out", str(tmp_path / "r.pdf"), stdout=out)
    assert "再通知を送るカードはありません" in out.getvalue()
    assert not (tmp_path / "r.pdf").exists()
    noticed(owner, 75)
    call_command("notices", "--reminders", "--out", str(tmp_path / "r.pdf"), stdout=out)
    assert len(PdfReader(tmp_path / "r.pdf").pages) == 1
    assert (tmp_path / "r.csv").read_text(encoding="utf-8-sig").count("\n") == 2
    assert owner.cards.get().status == CardStatus.REMINDED


def test_the_destruction_list_gives_date_and_rule_and_records_who_destroyed() -> None:
    owner = factories.municipality()
    long_ago = clock.now() - dt.timedelta(days=200)
    soon = clock.now() - dt.timedelta(days=80)
    ready = factories.card(owner, status=CardStatus.REMINDED, reminded_at=long_ago)
    later = factories.card(owner, status=CardStatus.REMINDED, reminded_at=soon)
    factories.card(owner, status=CardStatus.REMINDED, reminded_at=clock.now())
    due = unclaimed.cards_due_for_destruction(owner.pk, today=TODAY)
    assert [(d.card.pk, d.due_on) for d in due] == [
        (ready.pk, dt.date(2026, 8, 11)),
        (later.pk, dt.date(2026, 12, 8)),
    ]
    assert due[0].rule == "再通知から一定期間後"
    official = StaffUser.objects.create_user(
        "official", password="x", role=Role.OFFICIAL, municipality=owner, last_name="廃棄担当"
    )
    services.destroy_card(card=ready, actor=Actor.staff(official), staff_user=official)
    ready.refresh_from_db()
    assert ready.status == CardStatus.DESTROYED and ready.destroyed_by_id == official.pk
    client = Client()
    login_staff(client, official)
    page = client.get("/staff/issuance/destruction/").content.decode()
    assert "廃棄担当" in page and "2026-12-08" in page


def test_a_cancelled_booking_keeps_the_cards_notice_date_so_its_reminder_stays_due() -> None:
    owner = factories.municipality()
    card = noticed(owner, 75)
    services.mark_card_booked(card=card, reservation_code="R-1", actor=SYSTEM)
    services.mark_card_unbooked(card=card, actor=SYSTEM)
    card.refresh_from_db()
    assert card.status == CardStatus.NOTICE_ISSUED
    assert clock.to_jst(card.notice_issued_at).date() == TODAY - dt.timedelta(days=75)
    assert list(unclaimed.cards_due_for_reminder(owner.pk, today=TODAY)) == [card]


def test_a_reminded_cards_cancelled_booking_leaves_it_reminded_and_never_reminded_twice() -> None:
    owner = factories.municipality()
    reminded_at = clock.now() - dt.timedelta(days=200)
    card = noticed(owner, 300, reminded_at=reminded_at)
    CardRecord.objects.filter(pk=card.pk).update(status=CardStatus.REMINDED)
    card.refresh_from_db()
    services.mark_card_booked(card=card, reservation_code="R-1", actor=SYSTEM)
    services.mark_card_unbooked(card=card, actor=SYSTEM)
    card.refresh_from_db()
    assert card.status == CardStatus.REMINDED
    assert card.reminded_at == reminded_at
    assert list(unclaimed.cards_due_for_reminder(owner.pk, today=TODAY)) == []
    due = unclaimed.cards_due_for_destruction(owner.pk, today=TODAY)
    assert [d.card.pk for d in due] == [card.pk]
    assert list(AuditEvent.objects.filter(subject_id=str(card.pk)).values_list("after", flat=True))[
        -1
    ] == {"status": "reminded"}
