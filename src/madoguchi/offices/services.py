"""Writes to the offices configuration that other parts of madoguchi make (not the admin's)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.errors import DomainError
from madoguchi.offices.models import Site, SpecialOpening


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
