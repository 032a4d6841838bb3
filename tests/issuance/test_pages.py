"""Staff pages: login and least privilege; upload, bulk steps and notices work in the browser."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.core import clock
from madoguchi.issuance import deadlines
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.issuance.services import policy_for
from madoguchi.staff.models import Role
from tests.conftest import login_staff
from tests.frozen_clock import CARDS_NOW
from tests.issuance import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(CARDS_NOW),
    pytest.mark.usefixtures("frozen"),
]
SAMPLE = factories.DELIVERIES_CSV.encode()


def client_for(role: str) -> Client:
    owner = factories.municipality()
    client = Client()
    login_staff(client, factories.staff(role, owner))
    return client


def upload(client: Client) -> int:
    data = SimpleUploadedFile("d.csv", SAMPLE, content_type="text/csv")
    return client.post("/staff/issuance/import/", {"file": data}).status_code


def test_pages_need_a_login() -> None:
    response = Client().get("/staff/issuance/")
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_an_official_uploads_and_advances_cards_through_the_stages() -> None:
    client = client_for(Role.OFFICIAL)
    assert upload(client) == 200
    assert CardRecord.objects.count() == 4
    for step in ("inspect", "setup"):
        assert client.post("/staff/issuance/advance/", {"step": step}).status_code == 302
    assert CardRecord.objects.filter(status=CardStatus.SETUP_DONE).count() == 4
    page = client.get("/staff/issuance/")
    assert page.status_code == 200
    assert "今回の発送数: 0通" in page.content.decode()


@pytest.mark.parametrize("role", [Role.CONTRACTOR, Role.AUDITOR])
def test_contractors_and_auditors_cannot_upload(role: str) -> None:
    client = client_for(role)
    assert upload(client) == 403
    assert CardRecord.objects.count() == 0


def test_auditors_read_but_cannot_change() -> None:
    client = client_for(Role.AUDITOR)
    assert client.get("/staff/issuance/").status_code == 200
    assert client.post("/staff/issuance/advance/", {"step": "inspect"}).status_code == 403
    assert client.post("/staff/issuance/notices/").status_code == 403


def test_contractors_cannot_send_reminders() -> None:
    client = client_for(Role.CONTRACTOR)
    assert client.post("/staff/issuance/reminders/").status_code == 403


def test_the_watch_lists_late_cards_first_then_at_risk() -> None:
    owner = factories.municipality()
    today = dt.date(2026, 11, 27)
    fresh = factories.card(owner, delivered_on=today - dt.timedelta(days=2))
    late = factories.card(owner, delivered_on=today - dt.timedelta(days=20))
    risky = factories.card(
        owner, status=CardStatus.SETUP_DONE, delivered_on=today - dt.timedelta(days=9)
    )
    factories.card(
        owner, status=CardStatus.NOTICE_ISSUED, delivered_on=today - dt.timedelta(days=30)
    )
    watch = deadlines.deadline_watch(owner, today=today)
    assert [r.card for r in watch.cards] == [late, risky, fresh]
    assert (watch.late, watch.at_risk, watch.on_track) == (1, 1, 1)


def test_an_oversized_upload_is_refused_with_a_pointer_to_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from madoguchi.staff_console.issuance import views

    monkeypatch.setattr(views, "UPLOAD_MAX_BYTES", 100)
    client = client_for(Role.OFFICIAL)
    response = client.post(
        "/staff/issuance/import/",
        {"file": SimpleUploadedFile("big.csv", SAMPLE, content_type="text/csv")},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "ファイルが大きすぎます" in page and "madoguchi import-deliveries" in page
    assert not CardRecord.objects.exists()


def test_the_dashboard_reads_the_issuance_policy_once() -> None:
    """The deadline watch, the notice pacing, the weekly summary and the reminders share one
    read of the municipality's issuance policy (each part read it again: five reads)."""
    client = client_for(Role.OFFICIAL)
    assert upload(client) == 200
    with CaptureQueriesContext(connection) as statements:
        response = client.get("/staff/issuance/")
    assert response.status_code == 200
    reads = [q["sql"] for q in statements.captured_queries]
    assert sum('FROM "issuance_issuancepolicy"' in sql for sql in reads) == 1, reads


def test_the_weekly_summary_reads_the_cards_in_the_same_statements_however_many() -> None:
    """The dashboard's and the renewal page's weekly summary reads a municipality's cards in a
    fixed number of statements (each card read its municipality again: one statement a card)."""
    owner = factories.municipality()
    policy = policy_for(owner)
    counts = []
    for _ in range(2):
        factories.card(owner)
        factories.card(owner, status=CardStatus.NOTICE_ISSUED)
        with CaptureQueriesContext(connection) as statements:
            summary = deadlines.weekly_summary(owner, policy=policy)
        counts.append(len(statements.captured_queries))
    assert sum(w.arrivals for w in summary.weeks) == 4
    assert sum(w.notices for w in summary.weeks) == 2
    assert counts[0] == counts[1] <= 2, counts


def test_the_dashboard_counts_the_cards_and_the_free_seats_once_for_both_proposals() -> None:
    """The notice pacing and the reminders are proposed from one read of the free pick-up seats
    and one count of the cards (ready, out, reminded, due — `pacing.dashboard_proposals`), each
    proposal as it is made on its own."""
    from madoguchi.reservations import pacing
    from tests.offices import factories as offices
    from tests.reservations import factories as slots

    owner = factories.municipality()
    client = Client()
    login_staff(client, factories.staff(Role.OFFICIAL, owner))
    pickup = offices.procedure("card_pickup")
    site = offices.site(owner, counters=0, terminals=0)
    slots.slot(site, pickup, day=dt.date(2026, 12, 1), capacity=5, booked=1)
    for status, number in (
        (CardStatus.SETUP_DONE, 3),
        (CardStatus.NOTICE_ISSUED, 2),
        (CardStatus.REMINDED, 1),
    ):
        for _ in range(number):
            factories.card(owner, status=status)
    long_ago = clock.now() - dt.timedelta(days=90)  # past the 60 days before a reminder
    factories.card(
        owner,
        status=CardStatus.NOTICE_ISSUED,
        notice_issued_at=long_ago,
        first_notice_issued_at=long_ago,
    )

    with CaptureQueriesContext(connection) as statements:
        response = client.get("/staff/issuance/")

    assert response.status_code == 200
    proposal, reminders = response.context["proposal"], response.context["reminders"]
    assert proposal == pacing.propose_batch(municipality=owner)
    assert reminders == pacing.propose_reminders(municipality=owner)
    assert (proposal.free_seats, proposal.outstanding_notices, proposal.ready_cards) == (4, 4, 3)
    assert (reminders.due, reminders.reminded_unbooked, reminders.proposed) == (1, 1, 1)
    reads = [q["sql"] for q in statements.captured_queries]
    assert sum('SUM(("reservations_slot"."capacity"' in sql for sql in reads) == 1, reads
    card_counts = [sql for sql in reads if 'FROM "issuance_cardrecord"' in sql and "COUNT(" in sql]
    # by status (the page's stages) and the pacing's one count; 3 with by_status handed in
    assert len(card_counts) == 2, card_counts
    assert len(reads) <= 18, reads  # 19 when the page handed its counts to the pacing
