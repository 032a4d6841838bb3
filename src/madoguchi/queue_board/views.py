"""The waiting-room display, taking a ticket, and a ticket's own status page (no JavaScript).

The display reloads itself every 10 seconds (a wall screen nobody operates); the phone page
reloads only when its holder turns that on, because a page that reloads by itself under a
screen reader breaks WCAG 2.2.1 (docs/decisions/0005-walkin-queue.md).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.ratelimit import client_ip, hit
from madoguchi.offices.models import Site
from madoguchi.offices.selectors import active_sites, offered_procedures
from madoguchi.queue_board.forms import TakeTicketForm
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.selectors import queue_state, ticket_by_token, ticket_view
from madoguchi.walkins.services import cancel_ticket, issue_ticket

BOARD_REFRESH_SECONDS = 10
TICKET_REFRESH_SECONDS = 30
NEXT_NUMBERS_SHOWN = 10


def _site(site_id: int) -> Site:
    site = active_sites().filter(pk=site_id).first()
    if site is None:
        raise Http404("no such site")
    return site


def _ticket(token: str) -> QueueTicket:
    ticket = ticket_by_token(token)
    if ticket is None:
        raise Http404("no such ticket")
    return ticket


def index(request: HttpRequest) -> HttpResponse:
    """Every active site, with links to its display and to taking a ticket."""
    return render(request, "queue_board/index.html", {"sites": list(active_sites())})


def board(request: HttpRequest, site_id: int) -> HttpResponse:
    """The waiting-room display: numbers at the counters, the next numbers, the wait."""
    site = _site(site_id)
    state = queue_state(site)
    auto = request.GET.get("auto") != "0"
    return render(
        request,
        "queue_board/board.html",
        {
            "site": site,
            "state": state,
            "next_waiting": state.waiting[:NEXT_NUMBERS_SHOWN],
            # Booked visitors are called first: say so, or the order looks unfair.
            "appointments_first": any(t.reservation_id for t in state.waiting),
            "refresh_seconds": BOARD_REFRESH_SECONDS if auto else None,
            "updated_at": clock.now(),
        },
    )


def take_ticket(request: HttpRequest, site_id: int) -> HttpResponse:
    """Take a ticket on a phone or at the site's kiosk; then see it on its own page."""
    site = _site(site_id)
    form = TakeTicketForm(request.POST or None, procedures=offered_procedures(site))
    if request.method == "POST" and form.is_valid():
        try:
            hit("ip_write", client_ip(request))
            ticket = issue_ticket(
                site=site, procedure=form.cleaned_data["procedure"], actor=Actor.resident("web")
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return redirect("queue_board:ticket", token=ticket.token)
    return render(
        request,
        "queue_board/take.html",
        {"site": site, "form": form, "state": queue_state(site)},
        status=422 if form.errors else 200,
    )


def ticket(request: HttpRequest, token: str) -> HttpResponse:
    """One ticket on its holder's phone: position, estimated wait, where to go when called."""
    view = ticket_view(_ticket(token))
    active = view.ticket.is_active and view.ticket.business_day == clock.today()
    auto = active and request.GET.get("auto") == "1"
    response = render(
        request,
        "queue_board/ticket.html",
        {
            "view": view,
            "ticket": view.ticket,
            "active": active,
            "auto": auto,
            "refresh_seconds": TICKET_REFRESH_SECONDS if auto else None,
            "updated_at": clock.now(),
            "can_cancel": view.ticket.status == TicketStatus.WAITING and active,
        },
    )
    # The token is the ticket: never sent to another site. `same-origin` still lets the
    # browser send the Origin header the page's own forms (cancel, language) need (0013).
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The holder gives up their place."""
    try:
        cancel_ticket(ticket=_ticket(token), actor=Actor.resident("web"))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("整理券を取り消しました。"))
    return redirect("queue_board:ticket", token=token)
