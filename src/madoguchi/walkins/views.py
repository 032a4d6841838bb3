"""Staff calling page: call the next visitor to a counter, start, finish, no-show, cancel.

Views translate, services decide. Every view goes through the staff access rule
(`staff.access`: sign-in, role, site scope; 403 otherwise; no-store); changes are POST forms
with CSRF.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from madoguchi.offices.selectors import active_sites, offered_procedures
from madoguchi.staff import access
from madoguchi.staff.access import Action, staff_view
from madoguchi.walkins.forms import StaffIssueForm, TransferForm
from madoguchi.walkins.models import QueueSettings, QueueTicket, TicketChannel, TicketStatus
from madoguchi.walkins.selectors import queue_state
from madoguchi.walkins.services import (
    call_next_ticket,
    cancel_ticket,
    finish_ticket,
    issue_ticket,
    mark_ticket_no_show,
    recall_ticket,
    start_serving,
    transfer_ticket,
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


def _counters(site: Site) -> list[Counter]:
    return list(Counter.objects.filter(site=site, is_active=True).order_by("name"))


def _form_errors(request: HttpRequest, form: Any) -> None:
    for error in form.errors.as_data().values():
        for message in error:
            messages.error(request, " ".join(message.messages))


@staff_view(Action.SEE_SITE)
def calling(request: HttpRequest, site_id: int) -> HttpResponse:
    """One site's queue with a button per counter (buttons only for those who may call), the
    form to issue a ticket for somebody without a phone, recall and transfer."""
    site = _site_for(request, site_id, Action.SEE_SITE)
    procedures = offered_procedures(site)
    return render(
        request,
        "walkins/calling.html",
        {
            "site": site,
            "state": queue_state(site),
            "can_work": access.allows(request.user, Action.COUNTER, site=site),
            "issue_form": StaffIssueForm(procedures=procedures),
            "transfer_form": TransferForm(counters=_counters(site), procedures=procedures),
            "settings": QueueSettings.defaults_for(site),
        },
    )


@staff_view(Action.COUNTER)
@require_POST
def issue(request: HttpRequest, site_id: int) -> HttpResponse:
    """Issue a ticket at the counter for somebody without a phone; open its printable slip."""
    site = _site_for(request, site_id, Action.COUNTER)
    form = StaffIssueForm(request.POST, procedures=offered_procedures(site))
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("walkins:calling", site_id=site.pk)
    try:
        ticket = issue_ticket(
            site=site,
            procedure=form.cleaned_data["procedure"],
            actor=Actor.staff(request.user),
            channel=TicketChannel.STAFF,
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("walkins:calling", site_id=site.pk)
    messages.success(
        request,
        gettext("%(number)s番を発行しました。受付票を印刷してお渡しください。")
        % {"number": ticket.label},
    )
    return redirect("walkins:slip", ticket_id=ticket.pk)


@staff_view(Action.COUNTER)
@require_POST
def recall(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Call the visitor again (再呼出); after the site's limit the ticket becomes a no-show."""
    ticket = _ticket(request, ticket_id, Action.COUNTER)
    try:
        after = recall_ticket(ticket=ticket, actor=Actor.staff(request.user))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if after.status == TicketStatus.NO_SHOW:
            messages.warning(
                request,
                gettext("%(number)s番は再呼出でもお見えにならなかったため、不在にしました。")
                % {"number": after.label},
            )
        else:
            messages.success(
                request,
                gettext("%(number)s番を再呼出しました（%(count)s回目）。")
                % {"number": after.label, "count": after.recall_count},
            )
    return redirect("walkins:calling", site_id=ticket.site_id)


@staff_view(Action.COUNTER)
@require_POST
def transfer(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Send the visitor to another counter and/or procedure, keeping their place."""
    ticket = _ticket(request, ticket_id, Action.COUNTER)
    site = ticket.site
    form = TransferForm(request.POST, counters=_counters(site), procedures=offered_procedures(site))
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("walkins:calling", site_id=site.pk)
    try:
        after = transfer_ticket(
            ticket=ticket,
            actor=Actor.staff(request.user),
            counter=form.cleaned_data["counter"],
            procedure=form.cleaned_data["procedure"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        where = after.transfer_counter.name if after.transfer_counter else after.procedure.name
        messages.success(
            request,
            gettext("%(number)s番を%(where)sへ回付しました（順番はそのままです）。")
            % {"number": after.label, "where": where},
        )
    return redirect("walkins:calling", site_id=site.pk)


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
                % {"number": ticket.label, "counter": counter.name},
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
        messages.success(request, gettext(done).format(number=ticket.label))
    return redirect("walkins:calling", site_id=site.pk)
