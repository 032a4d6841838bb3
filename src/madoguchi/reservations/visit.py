"""What a resident needs to know about one booked visit, in one plain shape.

Pages, the .ics file and the e-mails all read from `Visit`, so they can never disagree about the
date, the place or what to bring.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from madoguchi.core import clock
from madoguchi.offices.tenancy import resident_base_url
from madoguchi.planning.rules import age_on

LEGAL_REPRESENTATIVE_AGE = 15
"""Under this age on the day of the visit, the person comes with their legal representative
(法定代理人) — as the booking form says; the reservation page and the mails repeat it."""

_ITEM_SEPARATORS = re.compile(r"[、\n]+")


def documents_to_bring(
    procedure: Any, *, is_proxy: bool, language: str | None = None
) -> tuple[str, ...]:
    """The procedure's list of documents (the proxy variant when `is_proxy`), one item each, in
    `language` (default: the active one; the Japanese list when none was entered in it).

    The offices admin keeps the list as one sentence separated by 「、」 or line breaks; a proxy
    visit falls back to the holder's list when no proxy list is configured.
    """
    text = (
        procedure.localized("proxy_documents", language) if is_proxy else ""
    ) or procedure.localized("documents", language)
    # Brackets may hold 「、」 themselves: split only outside （…）.
    items: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char in "（(":
            depth += 1
        elif char in "）)":
            depth = max(0, depth - 1)
        if depth == 0 and _ITEM_SEPARATORS.fullmatch(char):
            if current.strip():
                items.append(current.strip().rstrip("。"))
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current.strip().rstrip("。"))
    return tuple(items)


@dataclass(frozen=True)
class Visit:
    """One booked visit as the resident sees it."""

    code: str
    procedure_code: str
    procedure_name: str
    site_name: str
    site_address: str
    site_access_notes: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    is_proxy: bool
    documents: tuple[str, ...]
    change_until: dt.date | None = None
    """The last day the resident may change or cancel online (the municipality's cut-off,
    `services._check_cutoff`); None when not known."""
    municipality: str = ""
    site_url: str | None = None
    """The base URL of the municipality's residents' site (`offices.tenancy.resident_base_url`:
    its host, or /m/<code>/ among several); None: `MADOGUCHI_PUBLIC_BASE_URL`."""
    contact: str = ""
    """Whom to call once online changes have ended: the municipality's contact and phone."""
    language: str = "ja"
    """The language the resident booked in (`Reservation.language`): the mails and SMS are
    composed in it."""
    with_legal_representative: bool = False
    """The person booked is under `LEGAL_REPRESENTATIVE_AGE` on the day of the visit, so comes
    with their legal representative (the page and the mails say so)."""
    revision: int = 0
    """The booking's revision (`Reservation.revision`): the SEQUENCE of the .ics a mail
    attaches (decision 0041)."""

    def can_change_on(self, day: dt.date) -> bool:
        """Whether online changes are still open on business date `day`."""
        return self.change_until is not None and day <= self.change_until

    @property
    def day(self) -> dt.date:
        """The business date (Asia/Tokyo) of the visit."""
        return clock.to_jst(self.starts_at).date()

    @classmethod
    def of(cls, reservation: Any, *, language: str | None = None) -> Visit:
        """The visit of a `reservations.Reservation` (slot, site and procedure loaded), its
        names and texts in `language` (default: the active language; mails pass the booking's)
        with the Japanese value where none was entered in it."""
        slot = reservation.slot
        procedure = reservation.procedure
        site = slot.site
        site_address = site.localized("address", language)
        address = f"〒{site.postal_code} {site_address}" if site.postal_code else site_address
        municipality = site.municipality
        starts_on = clock.to_jst(slot.starts_at).date()
        contact = " ".join(
            part for part in (municipality.contact_name, municipality.contact_phone) if part
        )
        return cls(
            code=reservation.code,
            procedure_code=procedure.code,
            procedure_name=procedure.localized("name", language),
            site_name=site.localized("name", language),
            site_address=address,
            site_access_notes=site.localized("access_notes", language),
            starts_at=clock.to_jst(slot.starts_at),
            ends_at=clock.to_jst(slot.ends_at),
            is_proxy=bool(reservation.is_proxy),
            documents=documents_to_bring(
                procedure, is_proxy=bool(reservation.is_proxy), language=language
            ),
            change_until=starts_on - dt.timedelta(days=municipality.cancellation_cutoff_days),
            municipality=municipality.localized("name", language),
            site_url=resident_base_url(municipality),
            contact=contact or municipality.localized("name", language),
            language=reservation.language,
            with_legal_representative=(
                age_on(reservation.birth_date, starts_on) < LEGAL_REPRESENTATIVE_AGE
            ),
            revision=reservation.revision,
        )
