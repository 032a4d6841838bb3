"""Counter console v1 (staff): a day view per site, check-in / served / no-show, phone bookings.

Every page needs a login and checks the person's site scope (`StaffUser.can_work_at`); every
change goes through `reservations.services` with `Actor.staff(user)` — check-in through
`walkins.services.check_in_booked_visitor`, which also gives the visitor a queue ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.counter_console.forms import PhoneBookingForm
from madoguchi.counter_console.selectors import day_view, staff_bookable_slots
from madoguchi.issuance.models import IdDocumentClass, ProxyReason
from madoguchi.offices.models import Procedure, Site
from madoguchi.offices.selectors import active_sites, offered_procedures
from madoguchi.reservations import services
from madoguchi.reservations.models import Channel, Reservation
from madoguchi.resident_site.mail import send_confirmation_on_commit
from madoguchi.staff.models import StaffUser
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.services import check_in_booked_visitor

Done = TypeVar("Done")


def _staff(request: HttpRequest) -> StaffUser:
    user = request.user
    if not isinstance(user, StaffUser):  # login_required ran first: this is a signed-in user
        raise PermissionDenied
    return user


def _site_for(request: HttpRequest, site_id: int) -> Site:
    site = get_object_or_404(Site.objects.select_related("municipality"), pk=site_id)
    if not _staff(request).can_work_at(site.pk):
        raise PermissionDenied("この窓口の担当ではありません。")
    return site


def _parse_day(value: str | None) -> dt.date:
    if not value:
        return clock.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise Http404("日付が正しくありません。") from error


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The staff start page: the sites this person may work at, each linking to today."""
    user = _staff(request)
    sites = [s for s in active_sites() if user.can_work_at(s.pk)]
    return render(request, "counter_console/home.html", {"sites": sites, "today": clock.today()})


@login_required
def site_day(request: HttpRequest, site_id: int) -> HttpResponse:
    """The day view: the site's bookings by time (?day=YYYY-MM-DD, default today)."""
    site = _site_for(request, site_id)
    day = _parse_day(request.GET.get("day"))
    view = day_view(site_id=site.pk, day=day)
    return render(
        request,
        "counter_console/day.html",
        {
            "site": site,
            "view": view,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
            "is_today": day == clock.today(),
            "now": clock.now(),
            "proxy_reasons": ProxyReason.choices,
            "id_document_classes": IdDocumentClass.choices,
        },
    )


def _transition(
    action: Callable[..., Done], done: Callable[[Done], str]
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A POST view that applies `action` to one reservation and says `done(result)`."""

    @login_required
    @require_POST
    def view(request: HttpRequest, code: str) -> HttpResponse:
        booked = get_object_or_404(Reservation.objects.select_related("slot"), code=code)
        site = _site_for(request, booked.slot.site_id)
        try:
            result = action(code=booked.code, actor=Actor.staff(_staff(request)))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{booked.code}：{done(result)}")
        day = clock.to_jst(booked.slot.starts_at).date()
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("counter_console:site_day", args=[site.pk]) + f"?day={day}"
        return redirect(target)

    view.__doc__ = f"POST: {action.__module__}.{action.__name__}"
    return view


def _checked_in(ticket: QueueTicket) -> str:
    return gettext("受付しました（受付番号 %(number)s、予約の方として先にお呼びします）") % {
        "number": ticket.number
    }


check_in = _transition(check_in_booked_visitor, _checked_in)
served = _transition(services.mark_served, lambda _: gettext("完了にしました"))
no_show = _transition(services.mark_no_show, lambda _: gettext("来庁なしにしました"))


@login_required
@require_http_methods(["GET", "POST"])
def phone_booking(request: HttpRequest, site_id: int) -> HttpResponse:
    """Book by phone on a resident's behalf through the same `book_reservation` service.

    GET ?procedure=…&day=… lists the free times; POST books (channel `phone`, staff actor) and
    shows the code to read out.
    """
    site = _site_for(request, site_id)
    procedures = offered_procedures(site)
    data = request.POST if request.method == "POST" else request.GET
    chosen = _chosen_procedure(procedures, data.get("procedure"))
    day = _parse_day(data.get("day"))
    slots = list(staff_bookable_slots(site_id=site.pk, procedure_id=chosen.pk, day=day))
    choices = [
        (
            s.pk,
            gettext("%(time)s（残り%(remaining)s）")
            % {"time": f"{clock.to_jst(s.starts_at):%H:%M}", "remaining": s.remaining},
        )
        for s in slots
        if s.remaining > 0
    ]
    context: dict[str, Any] = {
        "site": site,
        "procedures": procedures,
        "procedure": chosen,
        "day": day,
    }
    if request.method == "GET":
        form = PhoneBookingForm(procedure=chosen, slot_choices=choices)
        return render(request, "counter_console/phone_booking.html", {**context, "form": form})
    form = PhoneBookingForm(request.POST, procedure=chosen, slot_choices=choices)
    if form.is_valid():
        try:
            with transaction.atomic():
                booked = services.book_reservation(
                    slot_id=form.cleaned_data["slot"],
                    procedure_code=chosen.code,
                    applicant=services.Applicant(**form.booking_arguments()),
                    actor=Actor.staff(_staff(request)),
                    channel=Channel.PHONE,
                )
                send_confirmation_on_commit(booked)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                gettext("予約しました。予約番号 %(code)s をお伝えください（%(when)s）。")
                % {
                    "code": booked.code,
                    "when": f"{clock.to_jst(booked.slot.starts_at):%-m月%-d日 %H:%M}",
                },
            )
            day_url = reverse("counter_console:site_day", args=[site.pk])
            return redirect(f"{day_url}?day={clock.to_jst(booked.slot.starts_at).date()}")
    return render(
        request, "counter_console/phone_booking.html", {**context, "form": form}, status=422
    )


def _chosen_procedure(procedures: list[Procedure], code: str | None) -> Procedure:
    if not procedures:
        raise Http404("この窓口で予約できる手続きはありません。")
    for procedure in procedures:
        if procedure.code == code:
            return procedure
    return procedures[0]
