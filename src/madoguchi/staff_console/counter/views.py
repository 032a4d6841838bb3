"""Counter console v1 (staff): a day view per site, check-in / served / no-show, phone bookings.

Every page goes through the staff access rule (`staff.access`: sign-in, role, site scope, 403
otherwise, no-store); every
change goes through `reservations.services` with `Actor.staff(user)` — check-in through
`walkins.services.check_in_booked_visitor`, which also gives the visitor a queue ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.dates import parse_day
from madoguchi.core.errors import DomainError
from madoguchi.core.forms import kept_value
from madoguchi.offices.models import Procedure
from madoguchi.offices.selectors import offered_procedures
from madoguchi.reservations import services
from madoguchi.reservations.forms import (
    FamilyMemberForm,
    member_prefix,
    no_one_named_twice,
    sent_values,
)
from madoguchi.reservations.models import Channel, Reservation
from madoguchi.staff import access
from madoguchi.staff.access import Action, staff_view
from madoguchi.staff.models import StaffUser
from madoguchi.staff_console.counter.forms import PhoneBookingForm
from madoguchi.staff_console.counter.selectors import day_view, staff_bookable_slots
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.services import check_in_booked_visitor
from madoguchi.walkins.visits import no_show_visit, serve_visit

Done = TypeVar("Done")


def _staff(request: HttpRequest) -> StaffUser:
    """The signed-in staff member (`access.staff_view` has checked the standing)."""
    return access.require(request.user, Action.SEE_SITE).user


def _reservation(request: HttpRequest, code: str, action: Action, *shown: str) -> Reservation:
    """The booking with this code if the person may do `action` at its site (403 otherwise,
    also for a code that does not exist: codes cannot be probed): read with its slot's site,
    which the rule asks about, and with the related rows a page shows (`shown`, select_related
    paths) — a move's services read the booking again by its code."""
    booked = Reservation.objects.select_related("slot__site", *shown).filter(code=code).first()
    return access.require_object(request.user, action, booked, site_of=lambda b: b.slot.site)


def _parse_day(value: str | None) -> dt.date:
    if not value:
        return clock.today()
    day = parse_day(value)  # malformed or outside 1900–2199 (no overflow on ±1 day)
    if day is None:
        raise Http404("日付が正しくありません。")
    return day


@staff_view(Action.SEE_SITE)
def home(request: HttpRequest) -> HttpResponse:
    """The staff start page: the sites this person may work at, each linking to today."""
    user = request.user
    sites = access.sites_in_scope(user, Action.SEE_SITE)
    return render(
        request,
        "counter_console/home.html",
        {
            "sites": sites,
            "bookable": {s.pk for s in sites if access.allows(user, Action.COUNTER, site=s)},
            "can_plan": access.allows(user, Action.SEE_PLANNING),
            "today": clock.today(),
        },
    )


@staff_view(Action.SEE_SITE)
def site_day(request: HttpRequest, site_id: int) -> HttpResponse:
    """The day view: the site's visits by time (?day=YYYY-MM-DD, default today), each with the
    holder's name, its queue number and state; ?q= searches name, kana, booking code or notice
    number. Residents' names: every reading is an access record."""
    site = access.site_for(request.user, Action.SEE_SITE, site_id)
    day = _parse_day(request.GET.get("day"))
    query = request.GET.get("q", "")
    try:
        view = day_view(site_id=site.pk, day=day, query=query)
    except DomainError as error:  # the search carried an Individual Number: never echo it
        messages.error(request, error.message)
        return redirect(f"{reverse('counter_console:site_day', args=[site.pk])}?day={day}")
    access.record_read(
        request.user, "day_view", site, day=day.isoformat(), **({"search": True} if query else {})
    )
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
            "can_work": access.allows(request.user, Action.COUNTER, site=site),
            "can_hand_over": access.allows(request.user, Action.HAND_OVER, site=site)
            and not access.official_step_refusal(
                request.user, site.municipality, access.hand_over_steps(is_proxy=False)
            ),
        },
    )


def _transition(
    action: Callable[..., Done], done: Callable[[Done], str]
) -> Callable[..., HttpResponseBase]:
    """A POST view that applies `action` to one reservation and says `done(result)`."""

    @staff_view(Action.COUNTER)
    @require_POST
    def view(request: HttpRequest, code: str) -> HttpResponse:
        booked = _reservation(request, code, Action.COUNTER)
        site = booked.slot.site
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
served = _transition(serve_visit, lambda _: gettext("完了にしました"))
no_show = _transition(no_show_visit, lambda _: gettext("来庁なしにしました"))


MEMBERS_FIELD = "members"
"""The hidden field counting the family members added to a phone booking (as on the residents'
identify page: 0 … MAX_GROUP_SIZE − 1)."""


def _member_count(data: Any) -> int:
    try:
        count = int(data.get(MEMBERS_FIELD, "0"))
    except ValueError:
        return 0
    return max(0, min(count, services.MAX_GROUP_SIZE - 1))


@staff_view(Action.COUNTER)
@require_http_methods(["GET", "POST"])
def phone_booking(request: HttpRequest, site_id: int) -> HttpResponse:
    """Book by phone on a resident's behalf through the same booking service as residents.

    GET ?procedure=…&day=… lists the free times; POST books (channel `phone`, staff actor) in
    the language the clerk chose for the resident (mails and SMS go out in it) and shows the
    code to read out. A family calling together: 「家族を追加する」 adds a member's notice
    number (or kana name) and birth date — a plain submit, as on the residents' page — and the
    booking is one group booking (`book_group_reservation`): everyone at that time, or nobody,
    the members reached at the first person's contact, each confirmation sent by the service.
    """
    site = access.site_for(request.user, Action.COUNTER, site_id)
    procedures = offered_procedures(site)
    data = request.POST if request.method == "POST" else request.GET
    chosen = _chosen_procedure(procedures, data.get("procedure"))
    day = _parse_day(data.get("day"))
    slots = list(staff_bookable_slots(site_id=site.pk, procedure_id=chosen.pk, day=day))

    def choices(party: int) -> list[tuple[int, str]]:
        """The times with a free seat for each of `party` people (as the residents' day page
        links only those: `resident_site.views._time_links`); the booking service still
        refuses a time taken meanwhile."""
        return [
            (
                s.pk,
                gettext("%(time)s（残り%(remaining)s）")
                % {"time": f"{clock.to_jst(s.starts_at):%H:%M}", "remaining": s.remaining},
            )
            for s in slots
            if s.remaining >= party
        ]

    context: dict[str, Any] = {
        "site": site,
        "procedures": procedures,
        "procedure": chosen,
        "day": day,
        "max_group_size": services.MAX_GROUP_SIZE,
    }

    def page(
        form: PhoneBookingForm,
        members: list[FamilyMemberForm],
        status: int = 200,
        dropped: str | None = None,
    ) -> HttpResponse:
        return render(
            request,
            "counter_console/phone_booking.html",
            {
                **context,
                "form": form,
                "members": members,
                "member_count": len(members),
                "members_have_errors": any(member.errors for member in members),
                "can_add_member": len(members) < services.MAX_GROUP_SIZE - 1,
                "dropped_time": dropped,
            },
            status=status,
        )

    def dropped_time(party: int) -> str | None:
        """The time the clerk had chosen, when it has no seat for each of `party` people and
        so left the list: the page says so, not a list silently back at 「選んでください」."""
        sent = request.POST.get("slot", "")
        for s in slots:
            if str(s.pk) == sent and s.remaining < party:
                return f"{clock.to_jst(s.starts_at):%H:%M}"
        return None

    if request.method == "GET":
        # after a sign-in that gives a sent family booking back, its members' forms too (each
        # starts from what was typed for it: `core.forms.restoring`)
        count = _member_count({MEMBERS_FIELD: kept_value(MEMBERS_FIELD) or "0"})
        members = [
            FamilyMemberForm(procedure=chosen, prefix=member_prefix(i)) for i in range(count)
        ]
        return page(
            PhoneBookingForm(procedure=chosen, slot_choices=choices(count + 1), party=count + 1),
            members,
        )
    count = _member_count(request.POST)
    step = request.POST.get("step", "")
    if step in ("add_member", "remove_member"):
        # the values typed so far shown again, unvalidated, with one member more or less
        if step == "add_member":
            count = min(count + 1, services.MAX_GROUP_SIZE - 1)
        else:
            count = max(count - 1, 0)
        lead = PhoneBookingForm(procedure=chosen, slot_choices=choices(count + 1), party=count + 1)
        lead.initial = sent_values(request.POST, lead)
        members = [
            FamilyMemberForm(
                procedure=chosen,
                prefix=member_prefix(i),
                initial=sent_values(
                    request.POST, FamilyMemberForm(procedure=chosen), prefix=member_prefix(i)
                ),
            )
            for i in range(count)
        ]
        return page(lead, members, dropped=dropped_time(count + 1))
    form = PhoneBookingForm(
        request.POST, procedure=chosen, slot_choices=choices(count + 1), party=count + 1
    )
    members = [
        FamilyMemberForm(request.POST, procedure=chosen, prefix=member_prefix(i))
        for i in range(count)
    ]
    if all([form.is_valid(), *[member.is_valid() for member in members]]) and (
        no_one_named_twice(form, members)
    ):
        try:
            booked = _book_by_phone(request, form, members, chosen)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _booked_message(booked))
            day_url = reverse("counter_console:site_day", args=[site.pk])
            return redirect(f"{day_url}?day={clock.to_jst(booked[0].slot.starts_at).date()}")
    return page(form, members, status=422)


def _book_by_phone(
    request: HttpRequest,
    form: PhoneBookingForm,
    members: list[FamilyMemberForm],
    procedure: Procedure,
) -> list[Reservation]:
    """One person through `book_reservation`, a family through `book_group_reservation` — the
    services the residents' pages book through, which send the confirmations themselves (no
    transaction here, so the booking takes the one-statement path)."""
    lead = form.booking_arguments()
    booking: dict[str, Any] = {
        "slot_id": form.cleaned_data["slot"],
        "procedure_code": procedure.code,
        "actor": Actor.staff(_staff(request)),
        "channel": Channel.PHONE,
        "language": form.cleaned_data["language"],
    }
    if not members:
        return [services.book_reservation(applicant=services.Applicant(**lead), **booking)]
    contact = {"email": lead["email"], "phone": lead["phone"]}
    return services.book_group_reservation(
        applicants=[
            services.Applicant(**lead),
            *[services.Applicant(**m.booking_arguments(contact=contact)) for m in members],
        ],
        **booking,
    )


def _booked_message(booked: list[Reservation]) -> str:
    when = f"{clock.to_jst(booked[0].slot.starts_at):%-m月%-d日 %H:%M}"
    if len(booked) == 1:
        return gettext("予約しました。予約コード %(code)s をお伝えください（%(when)s）。") % {
            "code": booked[0].code,
            "when": when,
        }
    return gettext(
        "%(count)s人分を予約しました。予約コード %(codes)s をお伝えください（%(when)s）。"
    ) % {"count": len(booked), "codes": "、".join(r.code for r in booked), "when": when}


def _chosen_procedure(procedures: list[Procedure], code: str | None) -> Procedure:
    if not procedures:
        raise Http404("この窓口で予約できる手続きはありません。")
    for procedure in procedures:
        if procedure.code == code:
            return procedure
    return procedures[0]
