"""Residents' booking pages: views translate input, call one service or selector, and render.

Flow (every step a plain link or form, complete without JavaScript):
procedure → site → month (○△×) → time → who is coming → confirm → reservation page (.ics).
Look-up, cancellation and rescheduling need the reservation code and the birth date; once given
(or right after booking) the browser's signed cookie remembers them (`kept.py`), so the resident
is not asked again. The flow asks the database for nothing but the booking itself and one live
read of the time's seats before the confirmation is shown (decision 0027): procedures, slots and
sites come from the per-process reference cache, what the browser keeps is in its cookie, and
the reservation page right after a booking is rendered from what the booking wrote.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from madoguchi.core import clock, sms
from madoguchi.core.audit import Actor
from madoguchi.core.dates import parse_day
from madoguchi.core.errors import DomainError
from madoguchi.core.languages import offered_language
from madoguchi.core.pagecache import booking_page_seconds, cached_page, reference_page_seconds
from madoguchi.core.ratelimit import client_ip, hit
from madoguchi.issuance.numbers import normalize_notice_number
from madoguchi.offices.hours_text import site_notes, weekly_hours
from madoguchi.offices.models import Municipality, Procedure, ProcedureCode, Site
from madoguchi.offices.selectors import (
    active_site_for_booking,
    active_sites,
    offered_procedures,
    procedure_by_code,
    site_hours,
)
from madoguchi.offices.tenancy import municipalities, resident_site_path, several
from madoguchi.reservations import services
from madoguchi.reservations.forms import (
    FamilyMemberForm,
    IdentifyForm,
    LookupForm,
    member_prefix,
    no_one_named_twice,
    sent_values,
)
from madoguchi.reservations.ics import visit_calendar
from madoguchi.reservations.models import Reservation, ReservationStatus, Slot
from madoguchi.reservations.normalize import normalize_reservation_code
from madoguchi.reservations.selectors import (
    booking_window,
    find_reservation_by_number,
    find_reservation_for_resident,
    group_members,
    nearest_free_slots,
    slot_for_booking,
    with_live_seats,
)
from madoguchi.reservations.visit import Visit, documents_to_bring
from madoguchi.resident_site import availability, kept
from madoguchi.resident_site.renewal import renewal_page_context

HOME_WEEKS = 2

FIELD_OF_ERROR = {
    "invalid_notice_number": "notice_number",
    "notice_number_required": "notice_number",
    "invalid_kana": "family_name_kana",
    "kana_name_required": "family_name_kana",
    "invalid_phone": "phone",
    "invalid_mobile": "phone",
    "invalid_email": "email",
    "contact_required": "email",
    "invalid_birth_date": "birth_date",
    "proxy_not_allowed": "is_proxy",
    "proxy_not_at_site": "is_proxy",
}
"""Which form field a service's DomainError belongs next to (others: the summary only)."""


@cached_page(reference_page_seconds)
def home(request: HttpRequest) -> HttpResponse:
    """The public home page: every site, what it offers, and its hours for the coming weeks —
    the regular week in a line, closures and special openings under it, the day-by-day table
    folded (a phone's page stayed ~10,000 px tall with it open). On a deployment of several
    municipalities with none chosen: their residents' sites."""
    municipality = _municipality(request)
    if municipality is None and several():
        entries = [
            {"municipality": m, "path": get_script_prefix() + resident_site_path(code)[1:]}
            for code, m in municipalities().items()
        ]
        return render(request, "resident_site/municipalities.html", {"entries": entries})
    sites = [
        {
            "entry": entry,
            "week": weekly_hours(entry.days),
            "notes": site_notes(entry.days, entry.site.open_until),
        }
        for entry in site_hours(clock.today(), HOME_WEEKS * 7, municipality)
    ]
    return render(request, "resident_site/home.html", {"sites": sites})


def _municipality(request: HttpRequest) -> Municipality | None:
    """The municipality whose site this is (offices.tenancy); None only with none at all."""
    return getattr(request, "municipality", None)


EXPIRY_INPUT_RANGE = (dt.date(2016, 1, 1), dt.date(2045, 12, 31))


TYPED_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"|(\d{4}) *年 *(\d{1,2}) *月 *(\d{1,2}) *日(?: *まで *(?:有効)?)?",
    re.ASCII,
)
"""A date as typed where no date picker is shown: 2026-09-30, 2026/9/30 or 2026.09.30, or as
the card prints its expiry, 2026年9月30日 (「2026年 9月30日まで有効」 copied whole too) — after
NFKC, so full-width digits, slashes and spaces too."""


def renew(request: HttpRequest) -> HttpResponse:
    """When and how to renew (更新の時期と手続き); `?expires=YYYY-MM-DD` adds the first day a
    renewal of that card or certificate can be requested."""
    raw = request.GET.get("expires", "").strip()[:20]
    expires_on = None
    error = ""
    if raw:
        typed = TYPED_DATE.fullmatch(unicodedata.normalize("NFKC", raw))
        if typed is None:
            error = _("有効期限の日付を「2027-04-01」のように、年-月-日で入力してください。")
        else:
            year, month, day = (int(part) for part in typed.groups() if part is not None)
            try:
                expires_on = dt.date(year, month, day)
            except ValueError:
                error = _(
                    "%(year)s年%(month)s月%(day)s日という日付はありません。"
                    "有効期限の日付をご確認ください。"
                ) % {"year": year, "month": month, "day": day}
        if expires_on is not None and not (
            EXPIRY_INPUT_RANGE[0] <= expires_on <= EXPIRY_INPUT_RANGE[1]
        ):
            expires_on = None
            error = _("有効期限は2016年から2045年までの日付で入力してください。")
    context = renewal_page_context(expires_on=expires_on, municipality=_municipality(request))
    context.update(error=error, expires_raw=raw)
    return render(request, "resident_site/renew.html", context, status=400 if error else 200)


# --- booking flow -----------------------------------------------------------------------------


def _carry(request: HttpRequest) -> str:
    """The query string carrying a notice number (from the notice's QR code) through the flow."""
    notice = request.GET.get("notice", "").strip()[:40]
    return "?" + urlencode({"notice": notice}) if notice else ""


def in_language(request: HttpRequest, code: str) -> HttpResponse:
    """The card pick-up booking in language `code` (the notice's printed line per language):
    the language is kept in its cookie, as the switch keeps it. A code not offered is refused
    with a message on the home page, and nothing is kept."""
    offered = offered_language(code)
    if offered is None:
        messages.error(request, _("その言語は選べません。一覧から選んでください。"))
        return redirect("resident_site:home")
    response = redirect("resident_site:sites", procedure=ProcedureCode.CARD_PICKUP)
    _keep_language(response, offered)
    return response


def _keep_language(response: HttpResponse, code: str) -> None:
    """Keep language `code` in its cookie, as the language switch keeps it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


PEOPLE_FIELD = "people"
"""The query parameter of the day page and the identify page: how many people come together
(1 … MAX_GROUP_SIZE; anything else counts as 1)."""


def _people(request: HttpRequest) -> int:
    try:
        count = int(request.GET.get(PEOPLE_FIELD, "1"))
    except ValueError:
        return 1
    return count if 1 <= count <= services.MAX_GROUP_SIZE else 1


def _with_people(carry: str, people: int) -> str:
    """`carry` (a query string or "") with the number of people added when more than one."""
    if people <= 1:
        return carry
    return (carry + "&" if carry else "?") + urlencode({PEOPLE_FIELD: people})


def _procedure(code: str) -> Procedure:
    found = procedure_by_code(code)  # the reference cache: no query on the booking path
    if found is None:
        raise Http404("この手続きは見つかりません。")
    return found


def _site_offering(request: HttpRequest, procedure: Procedure, site_id: int) -> Site:
    site = active_site_for_booking(site_id)  # the reference cache: no query in a rush
    municipality = _municipality(request)
    if (
        site is None
        or (municipality is not None and site.municipality_id != municipality.pk)
        or procedure not in offered_procedures(site)
    ):
        raise Http404("この窓口では、この手続きを受け付けていません。")
    return site


@cached_page(reference_page_seconds)
def procedures(request: HttpRequest) -> HttpResponse:
    """Step 1: which procedure (only those some active site offers)."""
    offered = {p for site in active_sites(_municipality(request)) for p in offered_procedures(site)}
    ordered = sorted(offered, key=lambda p: (p.sort_order, p.code))
    return render(
        request, "resident_site/procedures.html", {"procedures": ordered, "carry": _carry(request)}
    )


@cached_page(reference_page_seconds)
def sites(request: HttpRequest, procedure: str) -> HttpResponse:
    """Step 2: where — sites offering the procedure, with kind, address and this week's hours."""
    chosen = _procedure(procedure)
    entries = [
        e for e in site_hours(clock.today(), 7, _municipality(request)) if chosen in e.procedures
    ]
    return render(
        request,
        "resident_site/sites.html",
        {"procedure": chosen, "sites": entries, "carry": _carry(request)},
    )


def _month_context(
    request: HttpRequest,
    site: Site,
    procedure: Procedure,
    day_url: Callable[[dt.date], str],
    page_url: str,
    *,
    people: int = 1,
) -> dict[str, Any]:
    window = booking_window(site.municipality)
    months = availability.months_between(window.first, window.last)
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
    except ValueError:
        year, month = months[0]
    if (year, month) not in months:
        year, month = months[0]
    index = months.index((year, month))
    extra = {k: str(v) for k, v in request.GET.items() if k != "month"}

    def month_link(ym: tuple[int, int]) -> str:
        return page_url + "?" + urlencode({**extra, "month": f"{ym[0]:04d}-{ym[1]:02d}"})

    shown = availability.month_calendar(site.pk, procedure.code, year, month, people=people)
    return {
        "site": site,
        "procedure": procedure,
        "weeks": [
            [{"cell": c, "url": day_url(c.day) if c.bookable else ""} for c in week]
            for week in shown.weeks
        ],
        "month_start": dt.date(year, month, 1),
        "window_first": window.first,
        "window_last": window.last,
        "previous_url": month_link(months[index - 1]) if index > 0 else "",
        "next_url": month_link(months[index + 1]) if index + 1 < len(months) else "",
        "levels": [
            level
            for level in availability.Level
            if people > 1 or level != availability.Level.TOO_FEW
        ],
        "people": people,
        "lead_days": site.municipality.booking_window_min_days,
        "first_free_day": shown.first_free_day,
    }


@cached_page(booking_page_seconds)
def month(request: HttpRequest, procedure: str, site_id: int) -> HttpResponse:
    """Step 3: a month of days with ○ △ × (and words) for the chosen procedure and site; for a
    family (`people`, carried back from the day's page) only days with a time seating them all
    are offered, and the number goes on to the day."""
    chosen = _procedure(procedure)
    site = _site_offering(request, chosen, site_id)
    people = _people(request)
    carry = _with_people(_carry(request), people)

    def day_url(day: dt.date) -> str:
        return reverse("resident_site:day", args=[chosen.code, site.pk, day.isoformat()]) + carry

    page_url = reverse("resident_site:month", args=[chosen.code, site.pk])
    context = _month_context(request, site, chosen, day_url, page_url, people=people)
    return render(request, "resident_site/month.html", {**context, "carry": carry})


def _parse_day(value: str) -> dt.date:
    day = parse_day(value)  # malformed or outside 1900–2199 (no overflow on ±1 day)
    if day is None:
        raise Http404("日付が正しくありません。")
    return day


def _time_links(
    times: list[availability.TimeChoice],
    url: Callable[[availability.TimeChoice], str],
    *,
    people: int = 1,
) -> list[dict[str, Any]]:
    """Each time with its link — none for a time with fewer free seats than `people` (a time
    with some seats but too few for them is marked `too_few`)."""
    return [
        {
            "time": t,
            "url": url(t) if t.remaining >= people else "",
            "too_few": 0 < t.remaining < people,
        }
        for t in times
    ]


@cached_page(booking_page_seconds)
def day(request: HttpRequest, procedure: str, site_id: int, date: str) -> HttpResponse:
    """Step 4: the times on one day, each a link to the next step (full times shown, not links).

    A family chooses how many people come (`people`, a plain GET form): a time with fewer free
    seats than that is shown without a link, and the link carries the number on to the form,
    which opens with a place for each of them."""
    chosen = _procedure(procedure)
    site = _site_offering(request, chosen, site_id)
    visit_day = _parse_day(date)
    carry = _carry(request)
    people = _people(request)
    onward = _with_people(carry, people)
    times = _time_links(
        availability.day_times(site.pk, chosen.code, visit_day),
        lambda t: reverse("resident_site:identify", args=[chosen.code, t.slot_id]) + onward,
        people=people,
    )
    month_query = {"month": f"{visit_day:%Y-%m}", **{k: str(v) for k, v in request.GET.items()}}
    return render(
        request,
        "resident_site/day.html",
        {
            "procedure": chosen,
            "site": site,
            "day": visit_day,
            "times": times,
            "hours": availability.by_hour(times),
            "people": people,
            "people_choices": range(1, services.MAX_GROUP_SIZE + 1),
            "notice": request.GET.get("notice", "").strip()[:40],
            "month_url": reverse("resident_site:month", args=[chosen.code, site.pk])
            + "?"
            + urlencode(month_query),
        },
    )


def _slot(request: HttpRequest, procedure: Procedure, slot_id: int) -> Slot:
    """The slot's time, site and procedure from the reference cache — its seats are NOT live
    here (`with_live_seats`) — at a site of this residents' site's municipality only."""
    slot = slot_for_booking(slot_id)
    municipality = _municipality(request)
    if (
        slot is None
        or slot.procedure_id != procedure.pk
        or (municipality is not None and slot.site.municipality_id != municipality.pk)
    ):
        raise Http404("選ばれた枠が見つかりません。")
    return slot


def _live(slot: Slot) -> Slot:
    live = with_live_seats(slot)
    if live is None:
        raise Http404("選ばれた枠が見つかりません。")
    return live


def _remember(request: HttpRequest, code: str, birth_date: dt.date) -> None:
    kept.of(request).remember(code, birth_date.isoformat())


def _attach_service_error(form: IdentifyForm, error: DomainError) -> None:
    field = FIELD_OF_ERROR.get(error.code)
    form.add_error(field if field in form.fields else None, error.message)


MEMBERS_FIELD = "members"
"""The hidden field counting the family members added to a booking (0 … MAX_GROUP_SIZE − 1)."""


def _member_count(request: HttpRequest) -> int:
    try:
        count = int(request.POST.get(MEMBERS_FIELD, "0"))
    except ValueError:
        return 0
    return max(0, min(count, services.MAX_GROUP_SIZE - 1))


def _people_forms(
    request: HttpRequest, procedure: Procedure, slot: Slot, count: int, *, bound: bool
) -> tuple[IdentifyForm, list[FamilyMemberForm]]:
    """The first person's form and `count` family members' forms, bound to the POST or filled
    from it (to edit, add or remove someone without showing errors yet)."""
    if bound:
        lead = IdentifyForm(request.POST, procedure=procedure, site=slot.site)
        members = [
            FamilyMemberForm(
                request.POST, procedure=procedure, site=slot.site, prefix=member_prefix(i)
            )
            for i in range(count)
        ]
        return lead, members
    lead = IdentifyForm(
        procedure=procedure, site=slot.site, initial=_initial_from(request, procedure)
    )
    members = [
        FamilyMemberForm(
            procedure=procedure,
            site=slot.site,
            prefix=member_prefix(i),
            initial=_initial_from(request, procedure, prefix=member_prefix(i)),
        )
        for i in range(count)
    ]
    return lead, members


def _identify_page(
    request: HttpRequest,
    context: dict[str, Any],
    form: IdentifyForm,
    members: list[FamilyMemberForm],
    *,
    status: int = 200,
    already_booked: bool = False,
) -> HttpResponse:
    return render(
        request,
        "resident_site/identify.html",
        {
            **context,
            "already_booked": already_booked,
            "form": form,
            "members": members,
            "members_have_errors": any(member.errors for member in members),
            "member_count": len(members),
            "can_add_member": len(members) < services.MAX_GROUP_SIZE - 1,
            "max_group_size": services.MAX_GROUP_SIZE,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@kept.keeps
# The empty form (GET) shows the slot's time, site and procedure, never its seats: kept as long
# as that reference data. Rendered afresh, it says so when the time is full; the confirmation
# always reads the seats live.
@cached_page(reference_page_seconds)
def identify(request: HttpRequest, procedure: str, slot_id: int) -> HttpResponse:
    """Steps 5 and 6: who is coming, then a confirmation page; the second POST books.

    Family members may be added (「家族の分もいっしょに予約する」, up to `MAX_GROUP_SIZE` people
    in one visit, as the API's `family_members`): a plain submit button adds or removes one,
    so it works without JavaScript; all of them are booked in one slot, all or none.
    The confirmation page carries the entered values as hidden fields and a one-time token:
    the same token again (a double tap, a reload) shows the booking already made. The service
    is idempotent for the same person and slot too, so even two racing requests book once.

    Database work: the confirmation reads the time's seats live (one primary-key read: the
    day's page may be a few seconds old, and a time booked out since is never offered as free
    there), as does a form rendered afresh (a cached one comes with no query); the booking POST
    reads nothing — its statement refuses a full time itself — and the reservation page it
    redirects to is rendered from what it wrote.
    """
    chosen = _procedure(procedure)
    slot = _slot(request, chosen, slot_id)
    if request.POST.get("step") != "confirm":
        slot = _live(slot)
    context: dict[str, Any] = {"procedure": chosen, "slot": slot, "site": slot.site}
    coming = _people(request) if request.method == "GET" else 1
    if request.POST.get("step") != "confirm" and slot.remaining < coming:
        # Read live above: the day's page may be a few seconds old (core/pagecache.py), and a time
        # booked out since (or without seats for the family) is never offered as free here.
        return _slot_full(
            request,
            context,
            services.SlotFullError(nearest_free_slots(slot=slot, seats=coming)),
            None if request.method == "POST" else _with_people(_carry(request), coming),
        )
    if request.method == "GET":
        form = IdentifyForm(
            procedure=chosen,
            site=slot.site,
            initial={"notice_number": request.GET.get("notice", "")},
        )
        members = [
            FamilyMemberForm(procedure=chosen, site=slot.site, prefix=member_prefix(i))
            for i in range(coming - 1)
        ]
        return _identify_page(request, context, form, members)

    step = request.POST.get("step", "")
    token = request.POST.get("token", "")
    browser = kept.of(request)
    made = browser.booked_with(token) if step == "confirm" else None
    if made is not None:
        return redirect("resident_site:reservation", code=made)
    count = _member_count(request)
    if step in ("edit", "add_member", "remove_member"):
        if step == "add_member":
            count = min(count + 1, services.MAX_GROUP_SIZE - 1)
        elif step == "remove_member":
            count = max(count - 1, 0)
        form, members = _people_forms(request, chosen, slot, count, bound=False)
        return _identify_page(request, context, form, members)
    form, members = _people_forms(request, chosen, slot, count, bound=True)
    if not all([form.is_valid(), *[member.is_valid() for member in members]]):
        return _identify_page(request, context, form, members, status=422)
    if not no_one_named_twice(form, members):
        return _identify_page(request, context, form, members, status=422)
    if step != "confirm":
        people = [
            {
                "form": person,
                "documents": documents_to_bring(
                    chosen, is_proxy=bool(person.cleaned_data.get("is_proxy"))
                ),
            }
            for person in [form, *members]
        ]
        return render(
            request,
            "resident_site/confirm.html",
            {
                **context,
                "form": form,
                "members": members,
                "member_count": len(members),
                "people": people,
                "token": secrets.token_urlsafe(16),
                "documents": people[0]["documents"],
            },
        )
    try:
        hit("ip_write", client_ip(request))
        for person in [form, *members]:
            if person.cleaned_data.get("notice_number"):
                hit("notice", person.cleaned_data["notice_number"])  # normalised by the form
        booked = _book(form, members, slot)
    except services.SlotFullError as full:
        carry = "?" + urlencode({"notice": form.cleaned_data.get("notice_number", "")})
        return _slot_full(request, context, full, carry)
    except DomainError as error:
        _attach_service_error(form, error)
        return _identify_page(
            request,
            context,
            form,
            members,
            status=error.status,
            already_booked=error.code == "already_booked",
        )
    browser.used_token(token, booked[0].code)
    for reservation in booked:
        _remember(request, reservation.code, reservation.birth_date)
    browser.keep_just_booked(_snapshot(booked))
    return redirect("resident_site:reservation", code=booked[0].code)


SNAPSHOT_FIELDS = (
    "id",
    "code",
    "group_code",
    "channel",
    "family_name_kana",
    "given_name_kana",
    "email",
    "phone",
    "notice_number",
    "is_proxy",
    "language",
)


def _snapshot(booked: list[Reservation]) -> dict[str, Any]:
    """What the booking wrote, for its reservation page (`kept.Kept.just_booked`)."""
    return {
        "code": booked[0].code,
        "slot": booked[0].slot_id,
        "created_at": booked[0].created_at.isoformat(),
        "people": [
            {
                **{name: getattr(r, name) for name in SNAPSHOT_FIELDS},
                "birth_date": r.birth_date.isoformat(),
            }
            for r in booked
        ],
    }


def _from_snapshot(snapshot: dict[str, Any]) -> list[Reservation] | None:
    """The reservations a `_snapshot` describes, with their slot, site and procedure from the
    reference cache (no query); None when it cannot be read."""
    try:
        slot = slot_for_booking(int(snapshot["slot"]))
        created = dt.datetime.fromisoformat(snapshot["created_at"])
        if slot is None:
            return None
        return [
            Reservation(
                **{name: person[name] for name in SNAPSHOT_FIELDS},
                birth_date=dt.date.fromisoformat(person["birth_date"]),
                slot=slot,
                procedure=slot.procedure,
                status=ReservationStatus.BOOKED,
                created_at=created,
                updated_at=created,
            )
            for person in snapshot["people"]
        ]
    except (KeyError, TypeError, ValueError):
        return None


def _slot_full(
    request: HttpRequest,
    context: dict[str, Any],
    full: services.SlotFullError,
    carry: str | None = None,
) -> HttpResponse:
    """The time is full: say so, with the nearest free times (409)."""
    code = context["procedure"].code
    if carry is not None:
        carried = carry
    elif request.POST.get("notice_number"):
        carried = "?" + urlencode({"notice": request.POST["notice_number"].strip()[:40]})
    else:
        carried = _carry(request)
    nearest = _time_links(
        availability.time_choices(full.alternatives),
        lambda t: reverse("resident_site:identify", args=[code, t.slot_id]) + carried,
    )
    return render(
        request,
        "resident_site/full.html",
        {**context, "message": full.message, "nearest": nearest},
        status=409,
    )


def _initial_from(
    request: HttpRequest, procedure: Procedure, *, prefix: str = ""
) -> dict[str, Any]:
    """The values sent back from the confirmation page (or with an add/remove button), to edit
    them (no errors shown); `prefix` names a family member's fields."""
    return sent_values(request.POST, IdentifyForm(procedure=procedure), prefix=prefix)


def _book(form: IdentifyForm, members: list[FamilyMemberForm], slot: Slot) -> list[Reservation]:
    """Book through the reservations service, which also sends the confirmation (after the
    commit) — no transaction here, so the booking takes the one-statement path. With family
    members, one group booking: everyone in the slot, or nobody. The booking keeps the page's
    language, which its mails and SMS follow."""
    lead = form.booking_arguments()
    if not members:
        return [
            services.book_reservation(
                slot_id=slot.pk,
                procedure_code=slot.procedure.code,
                applicant=services.Applicant(**lead),
                actor=Actor.resident(),
                language=translation.get_language(),
            )
        ]
    contact = {"email": lead["email"], "phone": lead["phone"]}
    return services.book_group_reservation(
        slot_id=slot.pk,
        procedure_code=slot.procedure.code,
        applicants=[
            services.Applicant(**lead),
            *[services.Applicant(**m.booking_arguments(contact=contact)) for m in members],
        ],
        actor=Actor.resident(),
        language=translation.get_language(),
    )


# --- the reservation: look-up, page, .ics, cancel, reschedule ---------------------------------


def _known(request: HttpRequest, code: str) -> tuple[Reservation, dt.date] | None:
    """The reservation if this browser proved its code and birth date; None otherwise."""
    birth = kept.of(request).access.get(code)
    if birth is None:
        return None
    birth_date = dt.date.fromisoformat(birth)
    try:
        found = find_reservation_for_resident(
            code=code, birth_date=birth_date, municipality=_municipality(request)
        )
    except DomainError:
        return None
    return found, birth_date


def _to_lookup(code: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("resident_site:lookup") + "?" + urlencode({"code": code}))


@require_http_methods(["GET", "POST"])
@kept.keeps
def lookup(request: HttpRequest) -> HttpResponse:
    """Find a reservation by its booking code or notice number and the birth date (the same
    message for any mistake)."""
    if request.method == "GET":
        # The mails' link carries the booking's language (`lang`): read on another device, the
        # page opens in the mail's language, which is then kept as the switch keeps it.
        chosen = offered_language(request.GET.get("lang", "")[:20])
        if chosen is not None:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        form = LookupForm(initial={"code": request.GET.get("code", "")})
        response = render(request, "resident_site/lookup.html", {"form": form})
        if chosen is not None:
            _keep_language(response, chosen)
        return response
    form = LookupForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            hit("ip_write", client_ip(request))
            number = form.cleaned_data["code"]
            if normalize_reservation_code(number):
                hit("code", number)
            elif normalize_notice_number(number):
                hit("notice", number)  # the booking form's counter: one limit per notice
            found = find_reservation_by_number(
                number=number,
                birth_date=form.cleaned_data["birth_date"],
                municipality=_municipality(request),
            )
        except DomainError as error:
            form.add_error(None, error.message)
            status = error.status if error.status == 429 else 422
        else:
            _remember(request, found.code, found.birth_date)
            return redirect("resident_site:reservation", code=found.code)
    return render(request, "resident_site/lookup.html", {"form": form}, status=status)


def _policy(booked: Reservation) -> dict[str, Any]:
    """Until when the resident may change or cancel online (the service enforces it)."""
    municipality = booked.slot.site.municipality
    starts_on = clock.to_jst(booked.slot.starts_at).date()
    cutoff = starts_on - dt.timedelta(days=municipality.cancellation_cutoff_days)
    return {
        "cutoff_on": cutoff,
        "can_change": booked.status == ReservationStatus.BOOKED and clock.today() <= cutoff,
    }


def _visit_context(booked: Reservation) -> dict[str, Any]:
    return {
        "reservation": booked,
        "visit": Visit.of(booked),
        "sms_number": _masked_mobile(booked.phone),
        **_policy(booked),
    }


def _masked_mobile(phone: str) -> str:
    """The mobile number the SMS go to, as `090-****-5678` (enough to spot a typo); "" when the
    booking has no mobile number."""
    return f"{phone[:3]}-****-{phone[-4:]}" if sms.is_mobile(phone) else ""


def _companions(request: HttpRequest, booked: Reservation) -> dict[str, Any]:
    """Who was booked together with `booked` (a family booking): the codes this session knows
    (it made the booking, or looked each one up), and how many others there are — a code
    opens one person's booking, never the family's."""
    others = [r for r in group_members(booked) if r.pk != booked.pk]
    access = kept.of(request).access
    return {
        "companions": [r for r in others if r.code in access],
        "other_companions": sum(1 for r in others if r.code not in access),
    }


@kept.keeps
def reservation(request: HttpRequest, code: str) -> HttpResponse:
    """The reservation page: code, date and time, site, what to bring, .ics, change and cancel.

    Right after this browser booked it (the booking's redirect), rendered from what the booking
    wrote (`kept.Kept.just_booked`, once, within a minute) instead of reading it back."""
    snapshot = kept.of(request).just_booked(code)
    made = _from_snapshot(snapshot) if snapshot is not None else None
    municipality = _municipality(request)
    if municipality is not None and made and made[0].slot.site.municipality_id != municipality.pk:
        made = None  # booked on another municipality's site: unknown here
    if made and code in kept.of(request).access:
        return render(
            request,
            "resident_site/reservation.html",
            {**_visit_context(made[0]), "companions": made[1:], "other_companions": 0},
        )
    known = _known(request, code)
    if known is None:
        return _to_lookup(code)
    return render(
        request,
        "resident_site/reservation.html",
        {**_visit_context(known[0]), **_companions(request, known[0])},
    )


def reservation_ics(request: HttpRequest, code: str) -> HttpResponse:
    """The visit as an .ics file for the resident's calendar, in the page's language; a
    cancelled booking's file cancels the entry an earlier one made."""
    known = _known(request, code)
    if known is None:
        return _to_lookup(code)
    booked = known[0]
    calendar = visit_calendar(
        Visit.of(booked),
        cancelled=booked.status == ReservationStatus.CANCELLED,
        sequence=booked.revision,  # one up with each new time or place and the cancellation
    )
    response = HttpResponse(calendar, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="madoguchi-{known[0].code}.ics"'
    return response


def _cancel_refusal(booked: Reservation) -> str | None:
    """Why `booked` can no longer be cancelled online, in the resident's words, or None."""
    if booked.status == ReservationStatus.CANCELLED:
        return _("この予約はすでに取り消されています。")
    if booked.status != ReservationStatus.BOOKED:
        return _("この予約は「%(status)s」のため、取り消せません。") % {
            "status": _(booked.get_status_display())
        }
    return None


@require_http_methods(["GET", "POST"])
@kept.keeps
def cancel(request: HttpRequest, code: str) -> HttpResponse:
    """Ask once more, then cancel through the service (refused after the cut-off)."""
    known = _known(request, code)
    if known is None:
        return _to_lookup(code)
    context = _visit_context(known[0])
    refusal = _cancel_refusal(known[0])
    if refusal is not None:
        # No "cancel this booking?" question for a booking that cannot be cancelled any more.
        return render(
            request,
            "resident_site/reservation.html",
            {**context, **_companions(request, known[0]), "error": refusal},
            status=409,
        )
    if request.method == "GET":
        return render(request, "resident_site/cancel.html", context)
    kept.of(request).forget_just_booked()
    try:
        services.cancel_reservation(code=known[0].code, actor=Actor.resident())
    except DomainError as error:
        return render(
            request,
            "resident_site/cancel.html",
            {**context, "error": error.message},
            status=error.status,
        )
    messages.success(request, _("予約を取り消しました。"))
    return redirect("resident_site:reservation", code=known[0].code)


def _cannot_reschedule(request: HttpRequest, booked: Reservation) -> HttpResponse | None:
    """The reservation page with the reason (409) when `booked` can no longer move — cancelled,
    checked in or ended, its time passed, or past the online cut-off — so no calendar is shown
    for a change the service would refuse."""
    refusal = services.reschedule_refusal(booked, by_resident=True)
    if refusal is None and not _policy(booked)["can_change"]:
        refusal = services.past_cutoff(booked.slot.site.municipality.cancellation_cutoff_days)
    if refusal is None:
        return None
    return render(
        request,
        "resident_site/reservation.html",
        {**_visit_context(booked), "error": refusal.message},
        status=refusal.status,
    )


def reschedule(request: HttpRequest, code: str) -> HttpResponse:
    """Pick another day at the same site for the same procedure (month view)."""
    known = _known(request, code)
    if known is None:
        return _to_lookup(code)
    booked = known[0]
    refused = _cannot_reschedule(request, booked)
    if refused is not None:
        return refused

    def day_url(day: dt.date) -> str:
        return reverse("resident_site:reschedule_day", args=[booked.code, day.isoformat()])

    page_url = reverse("resident_site:reschedule", args=[booked.code])
    context = _month_context(request, booked.slot.site, booked.procedure, day_url, page_url)
    return render(
        request,
        "resident_site/month.html",
        {**context, **_visit_context(booked), "rescheduling": True},
    )


def reschedule_day(request: HttpRequest, code: str, date: str) -> HttpResponse:
    """The times on one day for the new visit."""
    known = _known(request, code)
    if known is None:
        return _to_lookup(code)
    booked = known[0]
    refused = _cannot_reschedule(request, booked)
    if refused is not None:
        return refused
    visit_day = _parse_day(date)
    times = _time_links(
        [
            t
            for t in availability.day_times(booked.slot.site_id, booked.procedure.code, visit_day)
            if t.slot_id != booked.slot_id
        ],
        lambda t: reverse("resident_site:reschedule_confirm", args=[booked.code, t.slot_id]),
    )
    return render(
        request,
        "resident_site/day.html",
        {
            "procedure": booked.procedure,
            "site": booked.slot.site,
            "day": visit_day,
            "times": times,
            "hours": availability.by_hour(times),
            "rescheduling": True,
            "month_url": reverse("resident_site:reschedule", args=[booked.code])
            + "?"
            + urlencode({"month": f"{visit_day:%Y-%m}"}),
        },
    )


@require_http_methods(["GET", "POST"])
@kept.keeps
def reschedule_confirm(request: HttpRequest, code: str, slot_id: int) -> HttpResponse:
    """Show the old and the new time; the POST moves the booking through the service."""
    known = _known(request, code)
    if known is None:
        return _to_lookup(code)
    booked = known[0]
    refused = _cannot_reschedule(request, booked)
    if refused is not None:
        return refused
    slot = _slot(request, booked.procedure, slot_id)
    if slot.site_id != booked.slot.site_id:
        # these pages move a visit in time at its own site (the confirmation names that site);
        # another site's slot, typed into the address, is as unknown as a wrong id
        raise Http404("選ばれた枠が見つかりません。")
    if slot.pk == booked.slot_id:
        # the booking's own time (a typed address, or the back button after the move): nothing
        # moves and nothing is audited, so say that plainly on the booking's page
        messages.info(request, _("この予約はすでにこの日時です。日時は変わっていません。"))
        return redirect("resident_site:reservation", code=booked.code)
    context = {**_visit_context(booked), "slot": slot}
    if request.method == "GET":
        return render(request, "resident_site/reschedule_confirm.html", context)
    kept.of(request).forget_just_booked()
    try:
        moved = services.reschedule_reservation(
            code=booked.code, slot_id=slot.pk, actor=Actor.resident()
        )
    except services.SlotFullError as full:
        nearest = _time_links(
            availability.time_choices(s for s in full.alternatives if s.pk != booked.slot_id),
            lambda t: reverse("resident_site:reschedule_confirm", args=[booked.code, t.slot_id]),
        )
        return render(
            request,
            "resident_site/reschedule_confirm.html",
            {**context, "error": full.message, "nearest": nearest},
            status=409,
        )
    except DomainError as error:
        return render(
            request,
            "resident_site/reschedule_confirm.html",
            {**context, "error": error.message},
            status=error.status,
        )
    messages.success(request, _("予約の日時を変更しました。"))
    return redirect("resident_site:reservation", code=moved.code)
