"""Writes to the offices configuration that other parts of madoguchi make (not the admin's)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.errors import DomainError
from madoguchi.offices.models import Site, SpecialOpening
from madoguchi.offices.signals import site_place_changed


def add_special_opening(
    *,
    site: Site,
    day: dt.date,
    starts_at_time: dt.time,
    ends_at_time: dt.time,
    counters_open: int,
    reason: str,
    actor: Actor,
) -> SpecialOpening:
    """Open `site` on `day` from `starts_at_time` to `ends_at_time` with `counters_open` counters.

    Validated like the admin (no card work past 20:00, inside a temporary counter's dates, no
    overlap with another special opening that day); raises DomainError (422) with the Japanese
    reason. Atomic and audited.
    """
    opening = SpecialOpening(
        site=site,
        day=day,
        starts_at_time=starts_at_time,
        ends_at_time=ends_at_time,
        counters_open=counters_open,
        reason=reason,
    )
    try:
        opening.full_clean()
    except ValidationError as error:
        messages = [m for ms in error.message_dict.values() for m in ms]
        raise DomainError("invalid_opening", " ".join(messages)) from None
    with transaction.atomic():
        opening.save()
        record_audit_event(
            actor=actor,
            action="offices.special_opening.add",
            subject_type="offices.SpecialOpening",
            subject_id=opening.pk,
            after=opening.as_audit(),
        )
    return opening


def place_of(site: Site, language: str) -> tuple[str, str, str]:
    """What a booking's .ics LOCATION and its mails say of where `site` is, in `language`: the
    name, the postal code and the address (the Japanese value where none was entered in it)."""
    return (
        site.localized("name", language),
        site.postal_code,
        site.localized("address", language),
    )


def place_languages(before: Site, after: Site) -> frozenset[str]:
    """The offered languages (`settings.LANGUAGES`) in which `after`'s place reads otherwise
    than `before`'s (`place_of`): a new name, postal code or address, in Japanese — which every
    language without its own text shows — or in one language's own text."""
    return frozenset(
        code
        for code, _name in settings.LANGUAGES
        if place_of(before, code) != place_of(after, code)
    )


@dataclass(frozen=True)
class SiteSaved:
    """What `save_site` did besides saving: the languages whose place text changed, the
    bookings whose revision went up and how many of them are being told."""

    languages: frozenset[str] = frozenset()
    revised: int = 0
    told: int = 0


def save_site(site: Site, *, actor: Actor) -> SiteSaved:
    """Save `site` (new or changed; the caller validated and audits it — the admin) and, when its
    place changed in any offered language, tell the layers above in the same transaction
    (`signals.site_place_changed`): `reservations` raises the revision of every booking still
    to come there — their .ics LOCATION changed — and tells its residents after the commit
    (decision 0044). A change of anything else (hours, access notes, procedures) sends
    nothing."""
    with transaction.atomic():
        before = Site.objects.filter(pk=site.pk).first() if site.pk is not None else None
        site.save()
        languages = place_languages(before, site) if before is not None else frozenset()
        if not languages:
            return SiteSaved()
        answers = site_place_changed.send(Site, site=site, languages=languages, actor=actor)
    # each receiver answers `(revised, told)` (the stubs type an answer as text)
    counts = [cast(tuple[int, int], answer) for _receiver, answer in answers if answer]
    return SiteSaved(
        languages=languages,
        revised=sum(revised for revised, _told in counts),
        told=sum(told for _revised, told in counts),
    )
