"""Writing and verifying the hash-chained audit log (DESIGN.md invariant 3)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from madoguchi.core import clock
from madoguchi.core.models import AuditEvent

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_KEY = 7_404_030_201  # any constant: one advisory lock for the one chain


@dataclass(frozen=True)
class Actor:
    """Who acted: a staff member, a resident through the public site, or the system itself."""

    label: str

    @classmethod
    def staff(cls, user: Any) -> Actor:
        return cls(f"staff:{user.pk}:{user.get_username()}")

    @classmethod
    def resident(cls, channel: str = "web") -> Actor:
        return cls(f"resident:{channel}")

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(f"system:{job}")


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False, sort_keys=True))


def _digest(event: AuditEvent) -> str:
    """SHA-256 of the event's canonical JSON (time in UTC with microseconds), link included."""
    payload = {
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "before": event.before,
        "after": event.after,
        "previous_hash": event.previous_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_audit_event(
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Append one event to the chain; call it inside the service's transaction.

    Appends are serialised (an advisory lock on PostgreSQL; SQLite's IMMEDIATE transactions
    already admit one writer), so the chain never forks.
    """
    # No savepoint: an event that cannot be written must fail the caller's whole transaction
    # anyway, and two fewer statements per event matter on the booking path.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            at=clock.now().astimezone(dt.UTC),
            actor=actor.label,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            before=_jsonable(before),
            after=_jsonable(after),
            previous_hash=last or GENESIS_HASH,
        )
        event.hash = _digest(event)
        event.save()
        return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_id: int | None
    reason: str

    @property
    def intact(self) -> bool:
        return self.first_bad_id is None


def _events() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=5000)


def verify_audit_chain() -> ChainReport:
    """Recompute every hash in order; report the first event whose link or content is wrong."""
    previous_hash = GENESIS_HASH
    checked = 0
    for event in _events():
        if event.previous_hash != previous_hash:
            return ChainReport(checked, event.pk, "前の記録とのつながりが切れています")
        if _digest(event) != event.hash:
            return ChainReport(checked, event.pk, "内容が書き換えられています")
        previous_hash = event.hash
        checked += 1
    return ChainReport(checked, None, "")
