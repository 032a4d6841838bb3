"""The calling page's new forms: issue a ticket at the counter, recall, transfer — each a
service call, refused with a message on bad input, and only for staff of the site."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import QueueSettings, QueueTicket, TicketChannel, TicketStatus
from madoguchi.walkins.services import call_next_ticket, issue_ticket
from tests.conftest import login_staff
from tests.frozen_clock import HALL_NOW
from tests.walkins.conftest import Hall, make_hall

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(HALL_NOW),
    pytest.mark.usefixtures("frozen"),
]

CLERK = Actor("staff:1:clerk")


@pytest.fixture
def staff_client(client: Client, hall: Hall) -> Client:
    user = StaffUser.objects.create_user(
        "tanaka", role=Role.OFFICIAL, municipality=hall.site.municipality
    )
    user.sites.add(hall.site)
    login_staff(client, user)
    return client


def called(hall: Hall) -> QueueTicket:
    ticket = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    ticket.refresh_from_db()
    return ticket


CALLED_TO = "番号が呼ばれたら、表示された窓口へお越しください。"


def messages_of(response: object) -> list[str]:
    return [str(m) for m in response.context["messages"]]  # type: ignore[attr-defined]


def test_staff_issue_a_ticket_and_land_on_its_printable_slip(
    staff_client: Client, hall: Hall
) -> None:
    response = staff_client.post(
        f"/staff/queue/sites/{hall.site.pk}/issue/", {"procedure": hall.card_pickup.pk}
    )
    ticket = QueueTicket.objects.get()
    assert (ticket.channel, ticket.procedure_id, ticket.status) == (
        TicketChannel.STAFF,
        hall.card_pickup.pk,
        TicketStatus.WAITING,
    )
    assert response["Location"] == f"/staff/queue/tickets/{ticket.pk}/slip/"
    slip = staff_client.get(response["Location"])
    assert slip.status_code == 200
    assert f'id="slip-number">{ticket.label}<' in slip.content.decode()
    event = AuditEvent.objects.get(subject_id=str(ticket.pk), action="ticket.issued")
    assert event.actor.startswith("staff:")


@pytest.mark.parametrize("procedure", ["", "999999", "abc"])
def test_staff_issue_with_a_bad_procedure_says_so_and_issues_nothing(
    staff_client: Client, hall: Hall, procedure: str
) -> None:
    response = staff_client.post(
        f"/staff/queue/sites/{hall.site.pk}/issue/", {"procedure": procedure}, follow=True
    )
    assert QueueTicket.objects.count() == 0
    assert any("手続き" in m for m in messages_of(response))


def test_staff_issue_after_closing_is_refused_with_the_reason(
    staff_client: Client, hall: Hall, frozen: object
) -> None:
    from tests.walkins.conftest import jst

    frozen.move_to(jst(18))  # type: ignore[attr-defined]
    login_staff(staff_client, StaffUser.objects.get(username="tanaka"))  # hours later: timed out
    response = staff_client.post(
        f"/staff/queue/sites/{hall.site.pk}/issue/",
        {"procedure": hall.card_pickup.pk},
        follow=True,
    )
    assert QueueTicket.objects.count() == 0
    assert any("受付は終了" in m for m in messages_of(response))


def test_recall_button_counts_and_then_marks_a_no_show(staff_client: Client, hall: Hall) -> None:
    QueueSettings.objects.create(site=hall.site, recalls_before_no_show=1)
    ticket = called(hall)
    first = staff_client.post(f"/staff/queue/tickets/{ticket.pk}/recall/", follow=True)
    assert "1番を再呼出しました（1回目）。" in messages_of(first)
    second = staff_client.post(f"/staff/queue/tickets/{ticket.pk}/recall/", follow=True)
    assert any("不在にしました" in m for m in messages_of(second))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NO_SHOW
    third = staff_client.post(f"/staff/queue/tickets/{ticket.pk}/recall/", follow=True)
    assert any("再呼出できません" in m for m in messages_of(third))


def test_transfer_form_moves_the_visitor_to_another_counter(
    staff_client: Client, hall: Hall
) -> None:
    ticket = called(hall)
    response = staff_client.post(
        f"/staff/queue/tickets/{ticket.pk}/transfer/",
        {"counter": hall.counter_2.pk, "procedure": ""},
        follow=True,
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.transfer_counter_id) == (TicketStatus.WAITING, hall.counter_2.pk)
    assert "1番を2番窓口へ回付しました（順番はそのままです）。" in messages_of(response)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"counter": "", "procedure": ""}, "今と違うもの"),
        ({"counter": "999999", "procedure": ""}, "この庁舎の窓口"),
        ({"counter": "", "procedure": "999999"}, "扱っていない手続き"),
    ],
)
def test_a_bad_transfer_says_why_and_changes_nothing(
    staff_client: Client, hall: Hall, fields: dict[str, str], says: str
) -> None:
    ticket = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
    before = QueueTicket.objects.filter(pk=ticket.pk).values().get()
    response = staff_client.post(f"/staff/queue/tickets/{ticket.pk}/transfer/", fields, follow=True)
    assert any(says in m for m in messages_of(response))
    assert QueueTicket.objects.filter(pk=ticket.pk).values().get() == before


ACTIONS: dict[str, Callable[[Hall, QueueTicket], tuple[str, dict[str, object]]]] = {
    "issue": lambda h, t: (
        f"/staff/queue/sites/{h.site.pk}/issue/",
        {"procedure": h.card_pickup.pk},
    ),
    "recall": lambda h, t: (f"/staff/queue/tickets/{t.pk}/recall/", {}),
    "transfer": lambda h, t: (
        f"/staff/queue/tickets/{t.pk}/transfer/",
        {"counter": h.counter_2.pk},
    ),
}


@pytest.mark.parametrize("who", ["anonymous", "other_site", "no_site"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_only_staff_of_the_site_may_issue_recall_or_transfer(
    client: Client, who: str, action: str
) -> None:
    hall = make_hall("北支所")
    ticket = called(hall)
    if who != "anonymous":
        user = StaffUser.objects.create_user(
            "someone", role=Role.OFFICIAL, municipality=hall.site.municipality
        )
        if who == "other_site":
            user.sites.add(make_hall("南支所").site)
        login_staff(client, user)
    before = list(QueueTicket.objects.values().order_by("pk"))
    events = AuditEvent.objects.count()
    url, data = ACTIONS[action](hall, ticket)
    response = client.post(url, data)
    assert response.status_code == (302 if who == "anonymous" else 403)
    if who == "anonymous":
        assert response["Location"].startswith("/staff/login/")
    assert list(QueueTicket.objects.values().order_by("pk")) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_staff_issue_a_ticket_in_the_language_the_clerk_chose_prints_and_opens_in_it(
    staff_client: Client, hall: Hall, language: str
) -> None:
    response = staff_client.post(
        f"/staff/queue/sites/{hall.site.pk}/issue/",
        {"procedure": hall.card_pickup.pk, "language": language},
    )
    ticket = QueueTicket.objects.get()
    assert (ticket.language, ticket.channel) == (language, TicketChannel.STAFF)
    issued = AuditEvent.objects.get(subject_id=str(ticket.pk), action="ticket.issued")
    assert issued.after["language"] == language
    with translation.override(language):
        told = gettext(CALLED_TO)
    # the printed part of the slip is in it, the clerk's page around it is not
    slip = staff_client.get(response["Location"]).content.decode()
    printed = slip[slip.index('<section class="slip"') : slip.index("</section>")]
    assert f'lang="{language}"' in printed and told in printed
    assert "ブラウザの印刷機能で印刷してお渡しください。" in slip
    # the phone that scans it opens the ticket's page in it
    page = Client().get(f"/queue/tickets/{ticket.token}/").content.decode()
    assert f'<html lang="{language}"' in page
    if language != settings.LANGUAGE_CODE:
        assert told != CALLED_TO


def test_staff_issue_without_a_language_leaves_the_ticket_to_the_phone(
    staff_client: Client, hall: Hall
) -> None:
    response = staff_client.post(
        f"/staff/queue/sites/{hall.site.pk}/issue/", {"procedure": hall.card_pickup.pk}
    )
    ticket = QueueTicket.objects.get()
    assert ticket.language == ""
    assert CALLED_TO in staff_client.get(response["Location"]).content.decode()
    english_phone = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/queue/tickets/{ticket.token}/")
    assert '<html lang="en"' in english_phone.content.decode()


def test_the_issue_form_offers_no_language_first_then_every_offered_language(
    staff_client: Client, hall: Hall
) -> None:
    html = staff_client.get(f"/staff/queue/sites/{hall.site.pk}/").content.decode()
    select = html[html.index('<select name="language"') :]
    select = select[: select.index("</select>")]
    assert '<option value="" selected>' in select
    for code, name in settings.LANGUAGES:
        assert f'<option value="{code}">{name}</option>' in select


@pytest.mark.parametrize("language", ["klingon", "fr", "ja-jp", "EN"])
def test_staff_issue_in_a_language_not_offered_says_so_and_issues_nothing(
    staff_client: Client, hall: Hall, language: str
) -> None:
    response = staff_client.post(
        f"/staff/queue/sites/{hall.site.pk}/issue/",
        {"procedure": hall.card_pickup.pk, "language": language},
        follow=True,
    )
    assert QueueTicket.objects.count() == 0
    assert any("その言語は選べません" in m for m in messages_of(response))
