"""Staff calling page: call the next visitor to a counter, start, finish, no-show, cancel.

Views translate, services decide. Every view goes through the staff access rule
(`staff.access`: sign-in, role, site scope; 403 otherwise; no-store); changes are POST forms
with CSRF.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import segno
from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.csvsafe import safe_writer
from madoguchi.core.errors import DomainError
from madoguchi.core.links import public_url
from madoguchi.offices.models import Counter, Site
from madoguchi.offices.selectors import offered_procedures
from madoguchi.offices.tenancy import resident_base_url, resident_url
from madoguchi.staff import access
from madoguchi.staff.access import Action, staff_view
from madoguchi.staff_console.charts import Series, bar_chart
from madoguchi.staff_console.walkins.forms import KioskForm, StaffIssueForm, StatsForm, TransferForm
from madoguchi.walkins.kiosks import ACTIVATION_MINUTES, register_kiosk, revoke_kiosk
from madoguchi.walkins.models import (
    KioskDevice,
    QueueSettings,
    QueueTicket,
    TicketChannel,
    TicketStatus,
)
from madoguchi.walkins.selectors import counters_with_leftovers, queue_state
from madoguchi.walkins.services import (
    adopt_observed_service_times,
    call_next_ticket,
    cancel_ticket,
    finish_ticket,
    issue_ticket,
    mark_ticket_no_show,
    recall_ticket,
    start_serving,
    transfer_ticket,
)
from madoguchi.walkins.statistics import MIN_SAMPLES_TO_ADOPT, queue_report

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


def _ticket(request: HttpRequest, ticket_id: int, action: Action, *shown: str) -> QueueTicket:
    """The ticket, if this person may do `action` at its site (403 otherwise, also for an id
    that does not exist): read with its site, which the rule asks about, and with the related
    rows a page shows (`shown`, select_related paths) — a move's services read the ticket
    again, locked, so a move reads nothing more."""
    ticket = QueueTicket.objects.select_related("site", *shown).filter(pk=ticket_id).first()
    return access.require_object(request.user, action, ticket, site_of=lambda t: t.site)


@staff_view(Action.SEE_SITE)
def sites(request: HttpRequest) -> HttpResponse:
    """The sites whose queues this person may see."""
    allowed = access.sites_in_scope(request.user, Action.SEE_SITE)
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
    # read once each for the whole page: what the site offers (the queue's estimates and both
    # forms), its queue settings (the calling order's early window and the page's figures)
    prefetch_related_objects([site], "procedures")
    procedures = offered_procedures(site)
    queue_settings = QueueSettings.defaults_for(site)
    state = queue_state(site, queue_settings=queue_settings)
    active_counters = [row.counter for row in state.counters]  # active, by name: `_counters`
    # on the site's own residents' side: under /m/<code>/ or its host when the deployment
    # serves several municipalities (`offices.tenancy.resident_url`, its base found once)
    base = resident_base_url(site.municipality)
    return render(
        request,
        "walkins/calling.html",
        {
            "site": site,
            "state": state,
            "counters": counters_with_leftovers(site, state),
            "today": clock.today(),
            "can_work": access.allows(request.user, Action.COUNTER, site=site),
            "can_register_kiosks": access.allows(request.user, Action.CHANGE_PLANNING, site=site),
            "issue_form": StaffIssueForm(procedures=procedures),
            "transfer_form": TransferForm(counters=active_counters, procedures=procedures),
            "settings": queue_settings,
            "board_url": public_url("queue_board:board", kwargs={"site_id": site.pk}, base=base),
            "kiosk_url": public_url("queue_board:kiosk", kwargs={"site_id": site.pk}, base=base),
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
            language=form.cleaned_data["language"],
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
    to follow the queue on their phone. Its printed part is in the ticket's language (the
    staff page's around it), the staff page's when the ticket has none."""
    ticket = _ticket(request, ticket_id, Action.SEE_SITE, "procedure", "reservation")
    status_page = resident_url(
        ticket.site.municipality, "queue_board:ticket", kwargs={"token": ticket.token}
    )
    slip_language = ticket.language or translation.get_language()
    with translation.override(slip_language):
        qr = segno.make(status_page, error="m").svg_inline(
            scale=4, title=gettext("待ち状況のページ（QRコード）"), svgclass="qr"
        )
    response = render(
        request,
        "walkins/slip.html",
        {
            "ticket": ticket,
            "status_page": status_page,
            "qr": mark_safe(qr),  # noqa: S308 segno's own SVG
            "slip_language": slip_language,
        },
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


def _report_scope(request: HttpRequest) -> tuple[StatsForm, list[Site], dt.date, dt.date]:
    """The statistics form and what it selects (today at every site in scope by default)."""
    in_scope = access.sites_in_scope(request.user, Action.SEE_SITE)
    today = clock.today()
    data = request.GET if "first" in request.GET else None
    form = StatsForm(data, sites=in_scope, initial={"first": today, "last": today})
    first = last = today
    chosen = in_scope
    if form.is_bound and form.is_valid():
        first, last = form.cleaned_data["first"], form.cleaned_data["last"]
        site_id = form.cleaned_data["site"]
        if site_id is not None:
            chosen = [s for s in in_scope if s.pk == site_id]
    return form, chosen, first, last


def _rounded(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


@staff_view(Action.SEE_SITE)
def stats(request: HttpRequest) -> HttpResponse:
    """The queue's measured day: per site, day and procedure, with waits by hour as a chart."""
    form, chosen, first, last = _report_scope(request)
    report = queue_report(chosen, first, last) if not form.errors else None
    chart = None
    if report is not None and report.waits_by_hour:
        hours = list(report.waits_by_hour)
        chart = bar_chart(
            title=gettext("発券した時刻ごとの平均待ち時間"),
            summary=gettext("時刻ごとの平均待ち時間（分）。同じ数字を下の表に示します。"),
            labels=[f"{h}:00" for h in hours],
            series=[
                Series(
                    gettext("平均待ち時間"),
                    [report.waits_by_hour[h].wait_mean or 0.0 for h in hours],
                    "#1f5fa8",
                ),
                Series(
                    gettext("90%の方の待ち時間"),
                    [report.waits_by_hour[h].wait_p90 or 0.0 for h in hours],
                    "#c0561b",
                ),
            ],
            unit=gettext("分"),
        )
    query = request.GET.urlencode()
    return render(
        request,
        "walkins/stats.html",
        {
            "form": form,
            "report": report,
            "chart": chart,
            "first": first,
            "last": last,
            "sites": chosen,
            "csv_query": query,
            # Adopting is per site: offered when one site is shown and this person plans there.
            "adopt_site": chosen[0]
            if len(chosen) == 1
            and access.allows(request.user, Action.CHANGE_PLANNING, site=chosen[0])
            else None,
            "min_samples": MIN_SAMPLES_TO_ADOPT,
        },
    )


CSV_HEADER = [
    "営業日",
    "窓口（庁舎）",
    "手続き",
    "整理券",
    "対応済み",
    "不在",
    "取消",
    "予約の方",
    "予約なしの方",
    "平均待ち時間（分）",
    "待ち時間90パーセンタイル（分）",
    "平均対応時間（分）",
    "目安の平均絶対誤差（分）",
]


@staff_view(Action.SEE_SITE)
def stats_csv(request: HttpRequest) -> HttpResponse:
    """The same rows as CSV (UTF-8 with BOM for spreadsheet software; formula-safe cells)."""
    form, chosen, first, last = _report_scope(request)
    if form.errors:
        return HttpResponse(
            " ".join(m for e in form.errors.as_data().values() for v in e for m in v.messages),
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    report = queue_report(chosen, first, last)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="queue-{first:%Y%m%d}-{last:%Y%m%d}.csv"'
    )
    out = io.StringIO()
    out.write("\ufeff")
    writer = safe_writer(out)
    writer.writerow(CSV_HEADER)
    for row in report.rows:
        s = row.summary
        writer.writerow(
            [
                row.day.isoformat(),
                row.site_name,
                row.procedure_name,
                s.tickets,
                s.served,
                s.no_shows,
                s.cancelled,
                s.appointments,
                s.walk_ins,
                _rounded(s.wait_mean),
                _rounded(s.wait_p90),
                _rounded(s.service_mean),
                _rounded(s.estimate_mae),
            ]
        )
    response.write(out.getvalue())
    return response


@staff_view(Action.CHANGE_PLANNING)
@require_POST
def adopt_service_times(request: HttpRequest, site_id: int) -> HttpResponse:
    """Make the service times observed at this site (the form's days) the planning
    assumption — for managers of the site's municipality (403 otherwise)."""
    site = access.site_for(request.user, Action.CHANGE_PLANNING, site_id)
    form = StatsForm(request.GET, sites=[site])
    back = f"{reverse('walkins:stats')}?{request.GET.urlencode()}"
    if not form.is_valid():
        messages.error(request, gettext("期間を選び直してください。"))
        return redirect(back)
    try:
        changed = adopt_observed_service_times(
            sites=[site],
            first=form.cleaned_data["first"],
            last=form.cleaned_data["last"],
            actor=Actor.staff(request.user),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if not changed:
            messages.info(request, gettext("所要時間は実績と同じでした。変更はありません。"))
        for item in changed:
            messages.success(
                request,
                gettext(
                    "「%(procedure)s」の所要時間を%(before)s分から%(after)s分にしました"
                    "（実績%(n)s件）。"
                )
                % {
                    "procedure": item.procedure.name,
                    "before": item.before,
                    "after": item.after,
                    "n": item.samples,
                },
            )
    return redirect(back)


@staff_view(Action.CHANGE_PLANNING)
def kiosks(request: HttpRequest, site_id: int) -> HttpResponse:
    """The site's registered entrance kiosks; register one (`walkins.kiosks`): the one-time
    activation link and its QR code are shown once, to open on the tablet."""
    site = _site_for(request, site_id, Action.CHANGE_PLANNING)
    form = KioskForm(request.POST or None)
    activation = None
    if request.method == "POST" and form.is_valid():
        try:
            device, token = register_kiosk(
                site=site, name=form.cleaned_data["name"], actor=Actor.staff(request.user)
            )
        except DomainError as error:
            form.add_error("name", error.message)
        else:
            link = resident_url(
                site.municipality, "queue_board:kiosk_activate", kwargs={"token": token}
            )
            qr = segno.make(link, error="m").svg_inline(
                scale=4, title=gettext("発行機の登録用リンク（QRコード）"), svgclass="qr"
            )
            activation = {"device": device, "link": link, "qr": mark_safe(qr)}  # noqa: S308
            form = KioskForm()
    return render(
        request,
        "walkins/kiosks.html",
        {
            "site": site,
            "form": form,
            "activation": activation,
            "activation_minutes": ACTIVATION_MINUTES,
            "devices": KioskDevice.objects.filter(site=site, revoked_at__isnull=True),
        },
        status=422 if form.errors else 200,
    )


@staff_view(Action.CHANGE_PLANNING)
@require_POST
def revoke_kiosk_view(request: HttpRequest, device_id: int) -> HttpResponse:
    """End a kiosk's registration: its tablet issues nothing from now on."""
    device = access.require_object(
        request.user,
        Action.CHANGE_PLANNING,
        KioskDevice.objects.select_related("site").filter(pk=device_id).first(),
        site_of=lambda d: d.site,
    )
    try:
        revoke_kiosk(device=device, actor=Actor.staff(request.user))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, gettext("発行機「%(name)s」の登録を取り消しました。") % {"name": device.name}
        )
    return redirect("walkins:kiosks", site_id=device.site_id)
