"""Staff calling page: call the next visitor to a counter, start, finish, no-show, cancel.

Views translate, services decide. Every view goes through the staff access rule
(`staff.access`: sign-in, role, site scope; 403 otherwise; no-store); changes are POST forms
with CSRF.
"""

from __future__ import annotations

from collections.abc import Callable

import segno
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.links import public_url
from madoguchi.offices.models import Counter, Site
from madoguchi.offices.selectors import active_sites
from madoguchi.staff import access
from madoguchi.staff.access import Action, staff_view
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.selectors import queue_state
from madoguchi.walkins.services import (
    call_next_ticket,
    cancel_ticket,
    finish_ticket,
    mark_ticket_no_show,
    start_serving,
)

TICKET_MOVES: dict[str, tuple[Callable[..., QueueTicket], str]] = {
    "serve": (start_serving, gettext_noop("{number}番の対応を始めました。")),
    "finish": (finish_ticket, gettext_noop("{number}番の対応を終了しました。")),
    "no-show": (mark_ticket_no_show, gettext_noop("{number}番を不在にしました。")),
    "cancel": (cancel_ticket, gettext_noop("{number}番を取り消しました。")),
}


def _site_for(request: HttpRequest, site_id: int, action: Action) -> Site:
    """The site, if this person may do `action` there (403 otherwise); an inactive site has no
    queue (404)."""
    site = access.site_for(request.user, action, site_id)
    if not site.is_active:
        raise Http404("no queue at an inactive site")
    return site


def _ticket(request: HttpRequest, ticket_id: int, action: Action) -> QueueTicket:
    """The ticket, if this person may do `action` at its site (403 otherwise, also for an id
    that does not exist)."""
    ticket = (
        QueueTicket.objects.select_related("site", "procedure", "reservation")
        .filter(pk=ticket_id)
        .first()
    )
    access.require(
        request.user,
        action,
        site=ticket.site if ticket is not None else None,
        present=ticket is not None,
    )
    if ticket is None:  # require() refused it already; this narrows the type
        raise access.AccessDenied("")
    return ticket


@staff_view(Action.SEE_SITE)
def sites(request: HttpRequest) -> HttpResponse:
    """The sites whose queues this person may see."""
    allowed = access.in_scope(request.user, Action.SEE_SITE, active_sites())
    return render(request, "walkins/sites.html", {"sites": allowed})


@staff_view(Action.SEE_SITE)
def calling(request: HttpRequest, site_id: int) -> HttpResponse:
    """One site's queue with a button per counter (buttons only for those who may call)."""
    site = _site_for(request, site_id, Action.SEE_SITE)
    return render(
        request,
        "walkins/calling.html",
        {
            "site": site,
            "state": queue_state(site),
            "can_work": access.allows(request.user, Action.COUNTER, site=site),
        },
    )


@staff_view(Action.SEE_SITE)
def slip(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A printable slip for a visitor (受付票): the number, and a QR code of the ticket's phone
    page on the public site — handed to a booked visitor on check-in, or to anybody who wants
    to follow the queue on their phone."""
    ticket = _ticket(request, ticket_id, Action.SEE_SITE)
    status_page = public_url("queue_board:ticket", kwargs={"token": ticket.token})
    qr = segno.make(status_page, error="m").svg_inline(
        scale=4, title=gettext("待ち状況のページ（QRコード）"), svgclass="qr"
    )
    response = render(
        request,
        "walkins/slip.html",
        {"ticket": ticket, "status_page": status_page, "qr": mark_safe(qr)},  # noqa: S308 segno's own SVG
    )
    # The page carries the ticket's token: never sent to another site (decision 0013).
    response["Referrer-Policy"] = "same-origin"
    return response  # no-store: staff_view


@staff_view(Action.COUNTER)
@require_POST
def call_next(request: HttpRequest, site_id: int, counter_id: int) -> HttpResponse:
    """Call the next waiting visitor to this counter."""
    site = _site_for(request, site_id, Action.COUNTER)
    counter = get_object_or_404(Counter, pk=counter_id, site=site)
    try:
        ticket = call_next_ticket(site=site, counter=counter, actor=Actor.staff(request.user))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if ticket is None:
            messages.info(request, gettext("お待ちの方はいません。"))
        else:
            messages.success(
                request,
                gettext("%(number)s番を%(counter)sにお呼びしました。")
                % {"number": ticket.number, "counter": counter.name},
            )
    return redirect("walkins:calling", site_id=site.pk)


@staff_view(Action.COUNTER)
@require_POST
def move_ticket(request: HttpRequest, ticket_id: int, action: str) -> HttpResponse:
    """Start serving, finish, mark a no-show or cancel one ticket."""
    ticket = _ticket(request, ticket_id, Action.COUNTER)
    if action not in TICKET_MOVES:
        raise Http404("unknown action")
    site = ticket.site
    service, done = TICKET_MOVES[action]
    try:
        service(ticket=ticket, actor=Actor.staff(request.user))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext(done).format(number=ticket.number))
    return redirect("walkins:calling", site_id=site.pk)
