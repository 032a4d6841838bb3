"""Public booking endpoints: views translate, services decide (house rule 1).

Reservations answer in the resident's language: a booking's answers (booking, look-up, change,
cancel, and the errors raised once it is found) in the booking's own `language`; before a booking
is found or made, in the request's optional `language` (a query parameter, or a body field), and
Japanese without one. A code not offered is 422 `invalid_language`, answered in Japanese, nothing
changed. Messages come from the catalogues (this module and `api/urls.py` are residents' sources);
site and procedure names from `localized()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status
from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from madoguchi.api.schemas import (
    MAX_ID,
    BirthDateIn,
    Date,
    ErrorOut,
    Input,
    MemberIn,
    ProcedureOut,
    RescheduleIn,
    ReservationCreatedOut,
    ReservationIn,
    ReservationOut,
    SiteOut,
    SlotFullOut,
    SlotOut,
    ValidationErrorOut,
)
from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.languages import offered_language
from madoguchi.core.ratelimit import client_ip, hit
from madoguchi.issuance.numbers import normalize_notice_number
from madoguchi.offices.models import Municipality, Procedure
from madoguchi.offices.selectors import active_sites, offered_procedures
from madoguchi.reservations import normalize
from madoguchi.reservations.models import Channel, Reservation, Slot
from madoguchi.reservations.selectors import bookable_slots, find_reservation_for_resident
from madoguchi.reservations.services import (
    Applicant,
    book_group_reservation,
    cancel_reservation,
    reschedule_reservation,
    unknown_language,
)

router = Router(tags=["booking"])

ERRORS = {404: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut}
API_ACTOR = Actor.resident("api")


def _municipality(request: HttpRequest) -> Municipality | None:
    """The municipality this API is asked for (`/m/<code>/api/v1/` or its host:
    offices.tenancy); every answer holds its sites, slots and bookings only."""
    return getattr(request, "municipality", None)


def _limit(request: HttpRequest, *, write: bool = False) -> None:
    hit("ip", client_ip(request))
    if write:
        hit("ip_write", client_ip(request))


def slot_out(slot: Slot) -> SlotOut:
    return SlotOut(
        id=slot.pk,
        starts_at=clock.to_jst(slot.starts_at),
        ends_at=clock.to_jst(slot.ends_at),
        remaining=slot.remaining,
    )


def reservation_out(reservation: Reservation) -> ReservationOut:
    slot = reservation.slot
    cutoff = slot.site.municipality.cancellation_cutoff_days
    return ReservationOut(
        code=reservation.code,
        status=reservation.status,
        slot_id=slot.pk,
        site_id=slot.site_id,
        site_name=slot.site.localized("name", reservation.language),
        procedure=reservation.procedure.code,
        procedure_name=reservation.procedure.localized("name", reservation.language),
        starts_at=clock.to_jst(slot.starts_at),
        ends_at=clock.to_jst(slot.ends_at),
        is_proxy=reservation.is_proxy,
        group_code=reservation.group_code,
        language=reservation.language,
        self_service_changes_until=clock.to_jst(slot.starts_at).date() - dt.timedelta(days=cutoff),
    )


class LanguageQuery(Input):
    language: str = Field(default="ja", min_length=1, max_length=20)
    """The language of the names (a code of `settings.LANGUAGES`; 422 `invalid_language` for
    any other): each name as entered in the admin for it, the Japanese name where none was."""


def _names_language(query: LanguageQuery) -> str:
    offered = offered_language(query.language)
    if offered is None:
        raise unknown_language()
    return offered


def _answer_language(code: str | None) -> str:
    """The offered language `code` names, Japanese when None; 422 `invalid_language` (in
    Japanese, before anything is read or written) for a code the site does not offer."""
    if code is None:
        return str(settings.LANGUAGE_CODE)
    offered = offered_language(code)
    if offered is None:
        raise unknown_language()
    return offered


@contextmanager
def _in_language(code: str | None) -> Iterator[str]:
    """Answer in `code` (validated: `_answer_language`) inside the block."""
    language = _answer_language(code)
    with translation.override(language):
        yield language


@router.get(
    "/procedures", response={200: list[ProcedureOut], 422: ValidationErrorOut, 429: ErrorOut}
)
def list_procedures(request: HttpRequest, query: Query[LanguageQuery]) -> list[ProcedureOut]:
    _limit(request)
    language = _names_language(query)
    return [
        ProcedureOut(
            code=p.code, name=p.localized("name", language), duration_minutes=p.duration_minutes
        )
        for p in Procedure.objects.order_by("sort_order", "code")
    ]


@router.get("/sites", response={200: list[SiteOut], 422: ValidationErrorOut, 429: ErrorOut})
def list_sites(request: HttpRequest, query: Query[LanguageQuery]) -> list[SiteOut]:
    _limit(request)
    language = _names_language(query)
    return [
        SiteOut(
            id=site.pk,
            name=site.localized("name", language),
            kind=site.kind,
            procedures=[p.code for p in offered_procedures(site)],
        )
        for site in active_sites(_municipality(request))
    ]


class SiteId(Input):
    site_id: int = Field(ge=1, le=MAX_ID)


class SlotQuery(Input):
    procedure: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    date_from: Date | None = None
    date_to: Date | None = None
    language: str | None = Field(default=None, min_length=1, max_length=20)
    """The language of the errors (Japanese when absent; 422 `invalid_language` for a code
    not offered)."""

    @field_validator("date_to")
    @classmethod
    def _not_before_date_from(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        """date_to before date_from is a mistake to name, not a window with no times in it."""
        date_from = info.data.get("date_from")
        if value is not None and date_from is not None and value < date_from:
            raise PydanticCustomError("date_order", "date_to must be on or after date_from")
        return value


@router.get("/sites/{site_id}/slots", response={200: list[SlotOut], **ERRORS})
def list_slots(request: HttpRequest, path: Path[SiteId], query: Query[SlotQuery]) -> list[SlotOut]:
    """Offered slots inside the booking window (full ones with remaining 0)."""
    with _in_language(query.language):
        return _list_slots(request, path, query)


def _list_slots(request: HttpRequest, path: SiteId, query: SlotQuery) -> list[SlotOut]:
    _limit(request)
    if not active_sites(_municipality(request)).filter(pk=path.site_id).exists():
        raise DomainError("site_not_found", _("窓口が見つかりません。"), status=404)
    today = clock.today()
    date_from = query.date_from or today
    date_to = query.date_to or date_from + dt.timedelta(days=31)
    slots = bookable_slots(
        site_id=path.site_id,
        procedure_code=query.procedure,
        date_from=date_from,
        date_to=date_to,
    )
    return [slot_out(s) for s in slots]


def _applicant(member: MemberIn) -> Applicant:
    return Applicant(
        birth_date=member.birth_date,
        notice_number=member.notice_number or "",
        family_name_kana=member.family_name_kana or "",
        given_name_kana=member.given_name_kana or "",
        email=member.email or "",
        phone=member.phone or "",
        is_proxy=member.is_proxy,
    )


@router.post(
    "/reservations",
    response={201: ReservationCreatedOut, 409: SlotFullOut, **ERRORS},
)
def create_reservation(request: HttpRequest, body: ReservationIn) -> Status[ReservationCreatedOut]:
    """Book a seat (and one for each family member, all or none). A double submit answers with
    the same reservation. The answer and its errors are in `language`."""
    with _in_language(body.language) as language:
        return _create_reservation(request, body, language)


def _create_reservation(
    request: HttpRequest, body: ReservationIn, language: str
) -> Status[ReservationCreatedOut]:
    _limit(request, write=True)
    normalize.refuse_individual_number(body.procedure)
    members = [body, *body.family_members]
    for member in members:
        if member.notice_number:
            hit("notice", normalize_notice_number(member.notice_number))
    reservations = book_group_reservation(
        slot_id=body.slot_id,
        procedure_code=body.procedure,
        applicants=[_applicant(m) for m in members],
        actor=API_ACTOR,
        channel=Channel.API,
        language=language,
        municipality=_municipality(request),
    )
    first = reservations[0]
    return Status(
        201,
        ReservationCreatedOut(
            code=first.code,
            slot_id=first.slot_id,
            site_id=first.slot.site_id,
            procedure=first.procedure.code,
            starts_at=clock.to_jst(first.slot.starts_at),
            group_code=first.group_code,
            member_codes=[r.code for r in reservations],
            language=first.language,
            site_name=first.slot.site.localized("name", first.language),
            procedure_name=first.procedure.localized("name", first.language),
        ),
    )


class CodePath(Input):
    code: str = Field(max_length=40)


class BirthDateQuery(Input):
    birth_date: Date
    language: str | None = Field(default=None, min_length=1, max_length=20)
    """The language of an error before the booking is found (Japanese when absent; 422
    `invalid_language` for a code not offered); a found booking answers in its own."""


def _found(
    request: HttpRequest, code: str, birth_date: dt.date, *, write: bool = False
) -> Reservation:
    _limit(request, write=write)
    normalize.refuse_individual_number(code)
    hit("code", normalize.normalize_reservation_code(code))
    return find_reservation_for_resident(
        code=code, birth_date=birth_date, municipality=_municipality(request)
    )


@contextmanager
def _booking(
    request: HttpRequest, code: str, query: BirthDateQuery | BirthDateIn, *, write: bool = False
) -> Iterator[Reservation]:
    """The booking behind `code` and the birth date, with its language active inside the
    block; the request's `language` until it is found (the uniform 404 is in it)."""
    with _in_language(query.language):
        reservation = _found(request, code, query.birth_date, write=write)
    with translation.override(reservation.language or settings.LANGUAGE_CODE):
        yield reservation


@router.get("/reservations/{code}", response={200: ReservationOut, **ERRORS})
def get_reservation(
    request: HttpRequest, path: Path[CodePath], query: Query[BirthDateQuery]
) -> ReservationOut:
    """The reservation for this code and birth date, in its language; one uniform 404
    otherwise."""
    with _booking(request, path.code, query) as reservation:
        return reservation_out(reservation)


@router.post(
    "/reservations/{code}/cancel",
    response={200: ReservationOut, 409: ErrorOut, **ERRORS},
)
def cancel(request: HttpRequest, path: Path[CodePath], body: BirthDateIn) -> ReservationOut:
    """Cancel before the cut-off (409 `past_cutoff` after it, in the booking's language)."""
    with _booking(request, path.code, body, write=True) as reservation:
        return reservation_out(cancel_reservation(code=reservation.code, actor=API_ACTOR))


@router.post(
    "/reservations/{code}/reschedule",
    response={200: ReservationOut, 409: SlotFullOut, **ERRORS},
)
def reschedule(request: HttpRequest, path: Path[CodePath], body: RescheduleIn) -> ReservationOut:
    """Move to another slot of the same procedure (409 `slot_full` with alternatives), in the
    booking's language."""
    with _booking(request, path.code, body, write=True) as reservation:
        moved = reschedule_reservation(
            code=reservation.code, slot_id=body.slot_id, actor=API_ACTOR, channel=Channel.API
        )
        return reservation_out(
            Reservation.objects.select_related("slot__site__municipality", "procedure").get(
                pk=moved.pk
            )
        )
