"""Walk-in ticket and queue endpoints: `POST /sites/{site_id}/tickets`, `GET /sites/{site_id}/queue`
and the ticket's own status, `GET /tickets/{token}` (the `status_url` a ticket carries).

A ticket is taken in a language (`language`, Japanese by default; a code not offered is 422
`invalid_language`, nothing issued): the answer — its messages, the site's and the procedure's
names — is in it, and the ticket keeps it, so its status here and its phone page answer in it too.

This router is mounted at the API root, so it declares full paths. Errors are `DomainError`s;
the API turns them into `{"error", "message"}` with their status. Views translate, services
decide: numbering, opening hours and estimates live in `madoguchi.walkins`.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Path, Router, Schema, Status
from pydantic import Field

from madoguchi.api.schemas import MAX_ID, ErrorOut, Input, ValidationErrorOut
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.languages import offered_language
from madoguchi.core.ratelimit import client_ip, hit
from madoguchi.offices.calendar import SiteCalendar
from madoguchi.offices.models import Procedure, Site
from madoguchi.offices.selectors import active_site
from madoguchi.reservations.services import unknown_language
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.selectors import queue_state, ticket_by_token, ticket_view
from madoguchi.walkins.services import issue_ticket_seen

router = Router(tags=["walk-ins"])

API_ACTOR = Actor.resident("api")
ERRORS = {404: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut}


def _ticket_not_found() -> DomainError:
    return DomainError(
        "ticket_not_found", _("整理券が見つかりません。番号札の案内をご確認ください。"), status=404
    )


class SiteId(Input):
    site_id: int = Field(ge=1, le=MAX_ID)


class TicketToken(Input):
    token: str = Field(min_length=16, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")


class TicketIn(Input):
    procedure: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    language: str = Field(default="ja", min_length=1, max_length=20)
    """The ticket's language (a code of `settings.LANGUAGES`; 422 `invalid_language` for any
    other): the answer's messages and names, and later the ticket's status and phone page."""


LABEL = "受付番号 as shown and called: the site's prefix for the procedure and the number, e.g. A12"


class TicketCreatedOut(Schema):
    number: int = Field(
        description="受付番号: 1, 2, 3, … per site, business day and prefix (see `label`)"
    )
    label: str = Field(description=LABEL)
    position: int = Field(description="1 = next to be called")
    estimated_wait_minutes: int
    language: str = Field(description="the ticket's language, as given (a code it keeps)")
    site_name: str = Field(description="in the ticket's language (Japanese where none entered)")
    procedure_name: str = Field(description="in the ticket's language")
    status_url: str = Field(description="this ticket's status (JSON); keep it private")
    status_page_url: str = Field(description="the same status as a phone page")


class QueueOut(Schema):
    site_id: int
    waiting: int = Field(description="tickets waiting to be called")
    serving: list[int] = Field(description="numbers being called or served at a counter")
    serving_labels: list[str] = Field(
        description="the same numbers as shown, with their prefixes (e.g. A12), by counter"
    )
    estimated_wait_minutes: int = Field(
        description="for somebody taking a ticket now (the longest over the procedures)"
    )
    estimated_wait_by_procedure: dict[str, int] = Field(
        description="per procedure code: the wait of somebody taking a ticket for it now, "
        "counting only the counters that take it"
    )


class TicketOut(Schema):
    number: int
    label: str = Field(description=LABEL)
    status: str = Field(description="waiting | called | serving | done | no_show | cancelled")
    status_label: str = Field(description="in the ticket's language")
    language: str = Field(description="the language the ticket was taken in; '' at the counter")
    site_id: int
    site_name: str
    procedure: str
    procedure_name: str
    business_day: dt.date
    issued_at: dt.datetime
    position: int | None = Field(description="while waiting; 1 = next")
    estimated_wait_minutes: int | None = Field(description="while waiting")
    counter: str | None = Field(description="the counter to go to, once called")
    serving: list[int]
    serving_labels: list[str] = Field(description="`serving` as shown, with prefixes")


def _site(request: HttpRequest, site_id: int) -> Site:
    """An active site of the municipality the API is asked for (offices.tenancy)."""
    site = active_site(site_id, getattr(request, "municipality", None))
    if site is None:
        raise DomainError("site_not_found", _("窓口が見つかりません。"), status=404)
    return site


@router.post(
    "/sites/{site_id}/tickets",
    response={201: TicketCreatedOut, 409: ErrorOut, **ERRORS},
    summary="Take a walk-in ticket",
)
def take_ticket(
    request: HttpRequest, path: Path[SiteId], body: TicketIn
) -> Status[TicketCreatedOut]:
    """A numbered place in the site's queue today (409 `site_closed` outside today's hours),
    answered in `language`."""
    hit("ip", client_ip(request))
    hit("ip_write", client_ip(request))
    language = offered_language(body.language)
    if language is None:
        raise unknown_language()
    with translation.override(language):
        return _take_ticket(request, path.site_id, body.procedure, language)


def _take_ticket(
    request: HttpRequest, site_id: int, code: str, language: str
) -> Status[TicketCreatedOut]:
    site = _site(request, site_id)
    procedure = Procedure.objects.filter(code=code).first()
    if procedure is None:
        raise DomainError(
            "procedure_not_offered",
            _("この窓口では選ばれた手続きの受付をしていません。"),
            status=422,
        )
    # the ticket's check and wait; the answer's position and wait are the ones it was issued
    # with (the queue read once, with the new ticket in it)
    view = issue_ticket_seen(
        site=site,
        procedure=procedure,
        actor=API_ACTOR,
        language=language,
        calendar=SiteCalendar.load(site),
    )
    ticket = view.ticket
    return Status(
        201,
        TicketCreatedOut(
            number=ticket.number,
            label=ticket.label,
            position=view.position or 1,
            estimated_wait_minutes=view.estimated_wait_minutes or 0,
            language=language,
            site_name=site.localized("name", language),
            procedure_name=procedure.localized("name", language),
            status_url=request.build_absolute_uri(
                reverse("api_v1:walkin_ticket", kwargs={"token": ticket.token})
            ),
            status_page_url=request.build_absolute_uri(
                reverse("queue_board:ticket", kwargs={"token": ticket.token})
            ),
        ),
    )


@router.get("/sites/{site_id}/queue", response={200: QueueOut, **ERRORS}, summary="Queue now")
def site_queue(request: HttpRequest, path: Path[SiteId]) -> QueueOut:
    """How many wait, which numbers are at the counters, and the wait for a newcomer."""
    hit("ip", client_ip(request))
    state = queue_state(_site(request, path.site_id))
    codes = dict(Procedure.objects.filter(pk__in=state.wait_by_procedure).values_list("pk", "code"))
    return QueueOut(
        site_id=state.site.pk,
        waiting=state.waiting_count,
        serving=state.serving_numbers,
        serving_labels=state.serving_labels,
        estimated_wait_minutes=state.estimated_wait_minutes,
        estimated_wait_by_procedure={
            codes[pk]: minutes for pk, minutes in state.wait_by_procedure.items()
        },
    )


@router.get(
    "/tickets/{token}",
    response={200: TicketOut, **ERRORS},
    url_name="walkin_ticket",
    summary="One ticket's status",
)
def ticket_status(request: HttpRequest, path: Path[TicketToken]) -> TicketOut:
    """Position and estimated wait of the ticket behind `token` (404 for unknown tokens), in
    the language the ticket was taken in."""
    hit("ip", client_ip(request))
    ticket = ticket_by_token(path.token)
    municipality = getattr(request, "municipality", None)
    if ticket is None or (
        municipality is not None and ticket.site.municipality_id != municipality.pk
    ):
        raise _ticket_not_found()
    with translation.override(ticket.language or translation.get_language()):
        return _ticket_out(ticket)


def _ticket_out(ticket: QueueTicket) -> TicketOut:
    view = ticket_view(ticket)
    at_counter = ticket.status in (TicketStatus.CALLED, TicketStatus.SERVING)
    return TicketOut(
        number=ticket.number,
        label=ticket.label,
        status=ticket.status,
        status_label=ticket.get_status_display(),
        language=ticket.language,
        site_id=ticket.site_id,
        site_name=ticket.site.localized("name"),
        procedure=ticket.procedure.code,
        procedure_name=ticket.procedure.localized("name"),
        business_day=ticket.business_day,
        issued_at=ticket.issued_at,
        position=view.position,
        estimated_wait_minutes=view.estimated_wait_minutes,
        counter=ticket.counter.localized("name") if at_counter and ticket.counter else None,
        serving=view.serving_numbers,
        serving_labels=view.serving_labels,
    )
