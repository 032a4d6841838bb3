"""The residents' queue pages: live congestion (混雑状況), the waiting-room display, taking a
ticket on a phone or at the entrance kiosk, and a ticket's own status page.

Every page works without JavaScript. The display and the kiosk use one static script each
(no inline script): the display polls `board.json` and chimes on a new call, the kiosk prints
and returns to its start. Nothing here reloads by itself through a meta refresh (axe-core's
`meta-refresh`; WCAG 2.2.1) except the phone page when its holder asks for it.
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.pagecache import CSRF_MARK, cached_page
from madoguchi.core.ratelimit import client_ip, hit
from madoguchi.offices.calendar import SiteCalendar
from madoguchi.offices.models import Municipality, Site
from madoguchi.offices.selectors import active_site, active_sites, offered_procedures
from madoguchi.offices.tenancy import resident_url
from madoguchi.queue_board.forms import TakeTicketForm
from madoguchi.walkins.kiosks import COOKIE_MAX_AGE as KIOSK_COOKIE_MAX_AGE
from madoguchi.walkins.kiosks import COOKIE_NAME as KIOSK_COOKIE
from madoguchi.walkins.kiosks import activate_kiosk, kiosk_for, pending_activation
from madoguchi.walkins.models import QueueTicket, TicketChannel, TicketStatus
from madoguchi.walkins.selectors import (
    QueueSnapshot,
    QueueState,
    TicketView,
    intake_today,
    queue_snapshot,
    queue_state,
    ticket_by_token,
    ticket_view,
)
from madoguchi.walkins.services import cancel_ticket, issue_ticket

TICKET_REFRESH_SECONDS = 30
NEXT_NUMBERS_SHOWN = 10
DISPLAY_POLL_SECONDS = 3
"""How often the display's script asks for `board.json`."""
DISPLAY_CACHE_SECONDS = 1
"""`board.json` is built at most once a second per site, however many screens poll it."""
CONGESTION_CACHE_SECONDS = 5
"""The congestion page's numbers are at most this old: thousands of phones polling it cost the
database one round of queries per site every few seconds, not one per request."""
KIOSK_RETURN_SECONDS = 45
"""The kiosk's ticket screen goes back to the start after this long (the holder can stop it)."""
KIOSK_REFRESH_SECONDS = 60
"""The kiosk's start screen reloads itself this often (kiosk.js, by GET — a refused tap is never
sent again): a tablet left on overnight, or through a quiet hour, shows the intake and the wait
as they are now, and in the morning the buttons appear without anyone reloading it. Not a meta
refresh, not even inside `<noscript>` for a tablet without JavaScript: WCAG 2.2.1 (technique F41,
axe-core's `meta-refresh`) refuses a timed one, and the browser tests check a JavaScript-off page
with `<noscript>`'s content as such a browser shows it. Without JavaScript the start screen stays
as it was loaded until someone reloads it."""
PHONE_COOLDOWN_SECONDS = 60
"""One phone takes at most one ticket a minute (a signed cookie; the per-address rate limit
is the other guard)."""
PHONE_COOLDOWN_COOKIE = "madoguchi_ticket"


def _municipality(request: HttpRequest) -> Municipality | None:
    """The municipality whose queue pages these are (offices.tenancy)."""
    return getattr(request, "municipality", None)


def _ours(request: HttpRequest, site: Site) -> bool:
    municipality = _municipality(request)
    return municipality is None or site.municipality_id == municipality.pk


def _site(request: HttpRequest, site_id: int) -> Site:
    site = active_site(site_id, _municipality(request))
    if site is None:
        raise Http404("no such site")
    return site


def _ticket(request: HttpRequest, token: str) -> QueueTicket:
    ticket = ticket_by_token(token)
    if ticket is None or not _ours(request, ticket.site):
        raise Http404("no such ticket")
    return ticket


def _after_own_action(request: HttpRequest) -> bool:
    """Right after the holder's own action (a messages or session cookie): the ticket is read
    live and its page rendered for this holder alone, never shared."""
    return "messages" in request.COOKIES or settings.SESSION_COOKIE_NAME in request.COOKIES


_snapshots: dict[int, tuple[float, QueueSnapshot]] = {}
"""This process's latest queue snapshot per site (`_ticket_and_queue`)."""


def _ticket_and_queue(request: HttpRequest, token: str) -> tuple[QueueTicket, QueueSnapshot]:
    """A phone's ticket and its site's queue, both at most `DISPLAY_CACHE_SECONDS` old: a
    ticket still in the queue is taken from the site's snapshot (one set of queries per site
    and second, however many phones ask); any other — finished, cancelled, just issued, or
    asked for right after an action of its holder (a messages or session cookie) — is read."""
    now = time.time()
    personal = _after_own_action(request)
    if not personal and DISPLAY_CACHE_SECONDS > 0:
        for at, snapshot in list(_snapshots.values()):
            found = snapshot.ticket(token) if now - at < DISPLAY_CACHE_SECONDS else None
            if found is not None and _ours(request, snapshot.site):
                return found, snapshot
    ticket = _ticket(request, token)
    held = _snapshots.get(ticket.site_id)
    if held is not None and now - held[0] < DISPLAY_CACHE_SECONDS:
        return ticket, held[1]
    snapshot = queue_snapshot(ticket.site)
    if DISPLAY_CACHE_SECONDS > 0:
        _snapshots[ticket.site_id] = (now, snapshot)
    return ticket, snapshot


def _private(response: HttpResponse) -> HttpResponse:
    """A page whose address is a ticket's token: never cached, never sent to another site."""
    response["Referrer-Policy"] = "same-origin"  # decision 0013
    response["Cache-Control"] = "no-store"
    return response


def _congestion_rows(municipality: Municipality | None) -> list[dict[str, Any]]:
    rows = []
    for site in active_sites(municipality):
        calendar = SiteCalendar.load(site)  # for its hours and its wait
        intake = intake_today(site, calendar=calendar)
        row: dict[str, Any] = {
            "site_id": site.pk,
            "name": site.localized("name"),
            "state": intake.state,
            "closed_reason": intake.closed_reason,
            "hours": [(p.starts_at, p.ends_at) for p in intake.periods],
            "takes_tickets": intake.takes_tickets,
        }
        if intake.takes_tickets:
            state = queue_state(site, calendar=calendar)
            row |= {
                "waiting": state.waiting_count,
                "estimated_wait_minutes": state.estimated_wait_minutes,
                "opens_at": state.opens_at,
                "wait_after_opening_minutes": state.wait_after_opening_minutes,
            }
        rows.append(row)
    return rows


@cached_page(lambda: CONGESTION_CACHE_SECONDS)
def index(request: HttpRequest) -> HttpResponse:
    """混雑状況: every site with today's hours, whether it takes walk-in tickets now, how many
    wait and the estimated wait — from the cache (`CONGESTION_CACHE_SECONDS` old at most)."""
    municipality = _municipality(request)
    # The rows hold names and closure reasons read in the request's language: one set each.
    rows: list[dict[str, Any]] = (
        cache.get_or_set(
            f"queue_board:congestion:{municipality.pk if municipality else ''}"
            f":{translation.get_language()}",
            lambda: _congestion_rows(municipality),
            CONGESTION_CACHE_SECONDS,
        )
        or []
    )
    response = render(
        request,
        "queue_board/index.html",
        {
            "open_rows": [r for r in rows if r["takes_tickets"]],
            "other_rows": [r for r in rows if not r["takes_tickets"]],
            "updated_at": clock.now(),
        },
    )
    response["Cache-Control"] = f"max-age={CONGESTION_CACHE_SECONDS}"
    return response


def _display_payload(site: Site) -> dict[str, Any]:
    """What the waiting-room display shows: numbers and counters, no personal data."""
    state: QueueState = queue_state(site)
    now = clock.now()
    return {
        "site": site.name,
        "updated_at": now.isoformat(),
        "updated_hm": f"{now:%H:%M}",
        "calling": [
            {
                "number": t.label,
                "counter": t.counter.name if t.counter else "",
                "status": t.status,
                # A recall shows as a new call (highlight and chime again).
                "called_at": (t.recalled_at or t.called_at or now).isoformat(),
            }
            for t in state.at_counters
        ],
        "next": [t.label for t in state.waiting[:NEXT_NUMBERS_SHOWN]],
        "waiting": state.waiting_count,
        "estimated_wait_minutes": state.estimated_wait_minutes,
        "opens_hm": f"{state.opens_at:%H:%M}" if state.opens_at else None,
        "wait_after_opening_minutes": state.wait_after_opening_minutes,
        "appointments_first": any(t.reservation_id for t in state.waiting),
    }


def _cached_display(request: HttpRequest, site_id: int, site: Site | None = None) -> dict[str, Any]:
    """The display's data, built at most once per `DISPLAY_CACHE_SECONDS` per site and
    municipality asked through (the site itself is read — and found to be of the request's
    municipality — only then; `site`: the site, when the caller has read it so)."""
    municipality = _municipality(request)

    def build() -> dict[str, Any]:
        return _display_payload(site if site is not None else _site(request, site_id))

    payload: dict[str, Any] | None = cache.get_or_set(
        f"queue_board:display:{municipality.pk if municipality else ''}:{site_id}",
        build,
        DISPLAY_CACHE_SECONDS,
    )
    return payload if payload is not None else build()


@cached_page(lambda: DISPLAY_CACHE_SECONDS)
def board(request: HttpRequest, site_id: int) -> HttpResponse:
    """The waiting-room display (a TV, 1920×1080 first): numbers being called with their
    counter, the next numbers, the waiting count and estimate, in Japanese and English.
    `display.js` keeps it current; without JavaScript it has a link to reload."""
    site = _site(request, site_id)
    return render(
        request,
        "queue_board/display.html",
        {
            "site": site,
            "data": _cached_display(request, site.pk, site),
            "poll_seconds": DISPLAY_POLL_SECONDS,
            "json_url": reverse("queue_board:board_json", args=[site.pk]),
        },
    )


def board_json(request: HttpRequest, site_id: int) -> JsonResponse:
    """The display's data (polled by `display.js`)."""
    response = JsonResponse(_cached_display(request, site_id))
    response["Cache-Control"] = "no-store"
    return response


def _recent_ticket(request: HttpRequest) -> str | None:
    token: str | None = request.get_signed_cookie(
        PHONE_COOLDOWN_COOKIE, default=None, salt="queue-take", max_age=PHONE_COOLDOWN_SECONDS
    )
    return token


@cached_page(lambda: CONGESTION_CACHE_SECONDS, personal_cookies=(PHONE_COOLDOWN_COOKIE,))
def take_ticket(request: HttpRequest, site_id: int) -> HttpResponse:
    """Take a ticket on a phone; then see it on its own page. A closed site says so (and when
    it opens) before the form; one phone takes at most one ticket a minute."""
    site = _site(request, site_id)
    calendar = SiteCalendar.load(site)  # the day's hours, the waits and the ticket's check
    form = TakeTicketForm(request.POST or None, procedures=offered_procedures(site))
    recent = _recent_ticket(request)
    if request.method == "POST":
        if recent is not None:
            form.add_error(
                None,
                gettext(
                    "1分以内に続けて整理券を受け取ることはできません。"
                    "先ほど受け取った整理券をご確認ください。"
                ),
            )
        elif form.is_valid():
            try:
                hit("ip_write", client_ip(request))
                ticket = issue_ticket(
                    site=site,
                    procedure=form.cleaned_data["procedure"],
                    actor=Actor.resident("web"),
                    channel=TicketChannel.PHONE,
                    language=translation.get_language(),
                    calendar=calendar,
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                response = redirect("queue_board:ticket", token=ticket.token)
                response.set_signed_cookie(
                    PHONE_COOLDOWN_COOKIE,
                    ticket.token,
                    salt="queue-take",
                    max_age=PHONE_COOLDOWN_SECONDS,
                    httponly=True,
                    samesite="Lax",
                    secure=request.is_secure(),
                )
                return response
    # the queue as the page shows it (a ticket taken is issued without it: its own wait is
    # the issue's, read with the new ticket in the queue)
    state = queue_state(site, calendar=calendar)
    # Once open: before opening the page says when the estimate starts instead.
    form.show_waits(state.wait_by_procedure if state.opens_at is None else None)
    return _private(
        render(
            request,
            "queue_board/take.html",
            {
                "site": site,
                "form": form,
                "state": state,
                "intake": intake_today(site, calendar=calendar),
                "recent": recent,
            },
            status=422 if form.errors else 200,
        )
    )


def _kiosk_refused(request: HttpRequest, site: Site) -> HttpResponse:
    """The kiosk page on a device that is not a registered kiosk of `site`: 403, nothing
    issued, and where to take a ticket instead."""
    return render(request, "queue_board/kiosk_refused.html", {"site": site}, status=403)


def kiosk(request: HttpRequest, site_id: int) -> HttpResponse:
    """The entrance tablet: one large button per procedure; a tap issues the ticket. Only a
    tablet registered as this site's kiosk (`walkins.kiosks`) may use it; anything else —
    a phone that found the address — is refused with 403 and sent to the phone page."""
    site = _site(request, site_id)
    device = kiosk_for(site, request.COOKIES.get(KIOSK_COOKIE))
    if device is None:
        return _kiosk_refused(request, site)
    form = TakeTicketForm(request.POST or None, procedures=offered_procedures(site))
    calendar = SiteCalendar.load(site)  # the ticket's check, the day's hours and the wait
    if request.method == "POST" and form.is_valid():
        try:
            hit("ip_write", client_ip(request))
            ticket = issue_ticket(
                site=site,
                procedure=form.cleaned_data["procedure"],
                actor=Actor.resident(f"kiosk:{device.pk}"),
                channel=TicketChannel.KIOSK,
                language=translation.get_language(),
                calendar=calendar,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return redirect("queue_board:kiosk_ticket", token=ticket.token)
    return render(
        request,
        "queue_board/kiosk.html",
        {
            "site": site,
            "device": device,
            "form": form,
            "state": queue_state(site, calendar=calendar),
            "intake": intake_today(site, calendar=calendar),
            "kiosk_refresh_seconds": KIOSK_REFRESH_SECONDS,
        },
        status=422 if form.errors else 200,
    )


def kiosk_activate(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link a manager's registration gives (`walkins.kiosks`), opened on the
    tablet: a button makes this browser the site's kiosk (a signed cookie), then the kiosk
    page opens. A used, expired or revoked link says so (410)."""
    device = pending_activation(token)
    if device is not None and not _ours(request, device.site):
        device = None  # another municipality's kiosk: as unknown as a wrong link
    if request.method == "POST" and device is not None:
        try:
            device, cookie = activate_kiosk(token=token, actor=Actor.resident("kiosk-activation"))
        except DomainError:
            device = None
        else:
            response = redirect("queue_board:kiosk", site_id=device.site_id)
            response.set_cookie(
                KIOSK_COOKIE,
                cookie,
                max_age=KIOSK_COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
            return _private(response)
    return _private(
        render(
            request,
            "queue_board/kiosk_activate.html",
            {"device": device},
            status=200 if device is not None else 410,
        )
    )


def kiosk_ticket(request: HttpRequest, token: str) -> HttpResponse:
    """The ticket just issued at the kiosk: the number, a QR code of its phone page, a print
    button; back to the start by itself after `KIOSK_RETURN_SECONDS` (or with the link)."""
    ticket = _ticket(request, token)
    phone_page = resident_url(
        ticket.site.municipality, "queue_board:ticket", kwargs={"token": ticket.token}
    )
    qr = segno.make(phone_page, error="m").svg_inline(
        scale=5, title=gettext("待ち状況のページ（QRコード）"), svgclass="qr"
    )
    return _private(
        render(
            request,
            "queue_board/kiosk_ticket.html",
            {
                "ticket": ticket,
                "view": ticket_view(ticket),
                "qr": mark_safe(qr),  # noqa: S308 segno's own SVG
                "return_seconds": KIOSK_RETURN_SECONDS,
            },
        )
    )


_TICKET_MARKS = {
    "token": "tktMarkTokenQ7x",
    "label": "tktMarkLabelQ7x",
    "ahead": "tktMarkAheadQ7x",
    "minutes": "tktMarkMinutesQ7x",
    "issued": "tktMarkIssuedQ7x",
}
_TICKET_MARK = re.compile("|".join([*_TICKET_MARKS.values(), CSRF_MARK]))
_ticket_shapes: dict[tuple[Any, ...], tuple[float, str]] = {}
"""This process's ticket pages by shape (`_shared_ticket_page`)."""


def _ticket_context(view: TicketView, request: HttpRequest) -> dict[str, Any]:
    ticket = view.ticket
    active = ticket.is_active and ticket.business_day == clock.today()
    auto = active and request.GET.get("auto") == "1"
    return {
        "view": view,
        "ticket": ticket,
        "active": active,
        "auto": auto,
        "refresh_seconds": TICKET_REFRESH_SECONDS if auto else None,
        "updated_at": clock.now(),
        "can_cancel": ticket.status == TicketStatus.WAITING and active,
        "issued_text": date_format(clock.to_jst(ticket.issued_at), "DAY_TIME_FORMAT"),
        "ahead": (view.position or 1) - 1,
    }


def _shared_ticket_page(request: HttpRequest, view: TicketView) -> str:
    """The ticket page of every ticket in the same state: rendered once per second and shape
    (site, procedure, counter, status, first in line or not, the numbers being served, the
    language, the minute shown) with markers for what is the holder's own — token, number,
    position, wait, issue time, CSRF token — which each answer puts back (escaped). Waiting
    phones of a site share a handful of pages instead of rendering one each."""
    ticket, context = view.ticket, _ticket_context(view, request)
    key = (
        get_script_prefix(),  # a municipality's /m/<code>/ or a host's root: the page's links
        ticket.site_id,
        ticket.procedure_id,
        ticket.counter_id,
        ticket.status,
        view.position == 1,
        tuple(view.serving_labels),
        ticket.business_day,
        context["active"],
        context["auto"],
        context["can_cancel"],
        context["updated_at"].strftime("%H:%M"),
        request.META.get("QUERY_STRING", ""),
        getattr(request, "LANGUAGE_CODE", ""),
    )
    now = time.time()
    held = _ticket_shapes.get(key)
    if held is None or now - held[0] >= DISPLAY_CACHE_SECONDS:
        marked = SimpleNamespace(
            token=_TICKET_MARKS["token"],
            label=_TICKET_MARKS["label"],
            site=ticket.site,
            procedure=ticket.procedure,
            counter=ticket.counter,
            status=ticket.status,
            is_active=ticket.is_active,
            business_day=ticket.business_day,
        )
        marked_view = SimpleNamespace(
            position=view.position,
            estimated_wait_minutes=_TICKET_MARKS["minutes"],
            serving_numbers=view.serving_numbers,
            serving_labels=view.serving_labels,
        )
        path, path_info = request.path, request.path_info
        request.path = path.replace(ticket.token, _TICKET_MARKS["token"])
        request.path_info = path_info.replace(ticket.token, _TICKET_MARKS["token"])
        try:
            html = render_to_string(
                "queue_board/ticket.html",
                {
                    **context,
                    "ticket": marked,
                    "view": marked_view,
                    "issued_text": _TICKET_MARKS["issued"],
                    "ahead": _TICKET_MARKS["ahead"],
                    "csrf_token": CSRF_MARK,
                },
                request,
            )
        finally:
            request.path, request.path_info = path, path_info
        if len(_ticket_shapes) >= 2_000:
            _ticket_shapes.clear()
        _ticket_shapes[key] = held = (now, html)
    own = {
        _TICKET_MARKS["token"]: ticket.token,
        _TICKET_MARKS["label"]: escape(ticket.label),
        _TICKET_MARKS["ahead"]: str(context["ahead"]),
        _TICKET_MARKS["minutes"]: escape(view.estimated_wait_minutes),
        _TICKET_MARKS["issued"]: escape(context["issued_text"]),
        CSRF_MARK: get_token(request),
    }
    return _TICKET_MARK.sub(lambda found: own[found.group(0)], held[1])


def ticket(request: HttpRequest, token: str) -> HttpResponse:
    """One ticket on its holder's phone: position, estimated wait, where to go when called.
    Shared with the tickets in the same state (`_shared_ticket_page`), except right after the
    holder's own action (a messages or session cookie: the page says what happened)."""
    ticket, snapshot = _ticket_and_queue(request, token)
    _in_ticket_language(request, ticket)
    view = ticket_view(ticket, snapshot)
    personal = _after_own_action(request)
    if DISPLAY_CACHE_SECONDS > 0 and not personal:
        response = HttpResponse(_shared_ticket_page(request, view))
    else:
        response = render(request, "queue_board/ticket.html", _ticket_context(view, request))
    # The token is the ticket: never sent to another site. `same-origin` still lets the
    # browser send the Origin header the page's own forms (cancel, language) need (0013).
    return _private(response)


def _in_ticket_language(request: HttpRequest, ticket: QueueTicket) -> None:
    """The ticket page speaks the language the ticket was taken in (on a phone, at the kiosk,
    through the API), unless its holder chose one with the switch (the language cookie); a
    ticket issued at the counter has none and follows the phone's language."""
    if not ticket.language or settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    translation.activate(ticket.language)
    request.LANGUAGE_CODE = translation.get_language()


@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The holder gives up their place. A ticket that has ended or is being served is not
    cancelled, and the holder is told why in the service's words (`cancel_ticket`)."""
    try:
        cancel_ticket(ticket=_ticket(request, token), actor=Actor.resident("web"))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("整理券を取り消しました。"))
    return redirect("queue_board:ticket", token=token)
