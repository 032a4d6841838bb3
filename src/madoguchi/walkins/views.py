"""Staff calling page: call the next visitor to a counter, start, finish, no-show, cancel.

Views translate, services decide. Every view needs a login and checks that the person may work
at the site (least privilege: `StaffUser.can_work_at`); changes are POST forms with CSRF.
"""

from __future__ import annotations

from collections.abc import Callable

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
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
from madoguchi.staff.models import StaffUser
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


def _staff(request: HttpRequest) -> StaffUser:
    user = request.user
    if not isinstance(user, StaffUser):  # login_required runs first; this narrows the type
        raise Http404("not a staff user")
    return user


def _site_for(request: HttpRequest, site_id: int) -> Site:
    """The site, if this person may work there; 404 otherwise (do not reveal other sites)."""
    site = active_sites().filter(pk=site_id).first()
    if site is None or not _staff(request).can_work_at(site.pk):
        raise Http404("no such site for this person")
    return site


@login_required
def sites(request: HttpRequest) -> HttpResponse:
    """The sites whose queues this person may call."""
    staff = _staff(request)
    allowed = [s for s in active_sites() if staff.can_work_at(s.pk)]
    return render(request, "walkins/sites.html", {"sites": allowed})


@login_required
def calling(request: HttpRequest, site_id: int) -> HttpResponse:
    """One site's queue with a button per counter."""
    site = _site_for(request, site_id)
    return render(request, "walkins/calling.html", {"site": site, "state": queue_state(site)})


@login_required
def slip(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A printable slip for a visitor (受付票): the number, and a QR code of the ticket's phone
    page on the public site — handed to a booked visitor on check-in, or to anybody who wants
    to follow the queue on their phone."""
    ticket = get_object_or_404(
        QueueTicket.objects.select_related("site", "procedure", "reservation"), pk=ticket_id
    )
    _site_for(request, ticket.site_id)
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
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def call_next(request: HttpRequest, site_id: int, counter_id: int) -> HttpResponse:
    """Call the next waiting visitor to this counter."""
    site = _site_for(request, site_id)
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


@login_required
@require_POST
def move_ticket(request: HttpRequest, ticket_id: int, action: str) -> HttpResponse:
    """Start serving, finish, mark a no-show or cancel one ticket."""
    if action not in TICKET_MOVES:
        raise Http404("unknown action")
    ticket = get_object_or_404(QueueTicket, pk=ticket_id)
    site = _site_for(request, ticket.site_id)
    service, done = TICKET_MOVES[action]
    try:
        service(ticket=ticket, actor=Actor.staff(request.user))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext(done).format(number=ticket.number))
    return redirect("walkins:calling", site_id=site.pk)
