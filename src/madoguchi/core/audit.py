"""Writing and verifying the hash-chained audit log (DESIGN.md invariant 3)."""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from madoguchi.core import clock, sql
from madoguchi.core.models import AuditEvent

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_KEY = 7_404_030_201  # any constant: one advisory lock for the one chain
logger = logging.getLogger(__name__)


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
    return _digest_of(
        event.at,
        event.actor,
        event.action,
        event.subject_type,
        event.subject_id,
        event.before,
        event.after,
        event.previous_hash,
    )


def _digest_of(
    at: dt.datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    before: Any,
    after: Any,
    previous_hash: str,
) -> str:
    payload = {
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "before": before,
        "after": after,
        "previous_hash": previous_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class PendingEvent:
    """One event to append, for `record_audit_events` (several in one INSERT)."""

    action: str
    subject_type: str
    subject_id: object
    before: Any = None
    after: Any = None


def record_audit_event(
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Append one event; call it inside the service's transaction (see `record_audit_events`)."""
    (event,) = record_audit_events(
        actor=actor,
        events=[PendingEvent(action, subject_type, subject_id, before, after)],
    )
    return event


def record_audit_events(
    *, actor: Actor, events: Sequence[PendingEvent], batch: sql.WriteBatch | None = None
) -> list[AuditEvent]:
    """Append events in one INSERT, inside the caller's transaction; they commit or vanish with it.

    With `batch`, the INSERT joins the caller's other writes (`core.sql.WriteBatch`) and nothing
    is returned.

    Appending takes no lock and reads nothing: events are written unsealed, and the sealer
    (`seal_audit_events`) links them into the hash chain in the order their transactions became
    visible, right after commit (decision 0008). Until then the database triggers already refuse
    any change to them.
    """
    at = clock.now().astimezone(dt.UTC)
    values = [
        {
            "at": at,
            "actor": actor.label,
            "action": e.action,
            "subject_type": e.subject_type,
            "subject_id": str(e.subject_id),
            "before": _jsonable(e.before),
            "after": _jsonable(e.after),
            "previous_hash": "",  # set by the sealer
            "hash": "",
        }
        for e in events
    ]
    if batch is not None:
        batch.insert(AuditEvent, values)
        batch.after_commit(_seal_after_commit)
        return []  # the batch has not run yet: there is nothing to hand back
    ids = sql.insert_rows(AuditEvent, values)  # one statement (core/sql.py)
    rows = []
    for pk, value in zip(ids, values, strict=True):
        event = AuditEvent(pk=pk, **value)
        event._state.adding = False
        rows.append(event)
    transaction.on_commit(_seal_after_commit)
    return rows


_per_row_statements: dict[tuple[str, ...], str] = {}  # built once per shape (quoting costs)


def record_audit_events_per_row(
    *,
    actor: Actor,
    batch: sql.WriteBatch,
    action: str,
    subject_type: str,
    source: str,
    where: str,
    params: Sequence[Any],
    subject_id: str,
    before: str,
    after: Any,
) -> None:
    """Queue one event per row of `source` matching `where` — a guarded batch's `lock`, read
    in the same statement (PostgreSQL only) — written only when the batch's guard applies.

    For writes whose subject Python never read (`WriteBatch.lock`): `subject_id` and `before`
    are SQL expressions over the locked row (the state the write changes), `after` a value.
    Appended unsealed like `record_audit_events`; the sealer links them after commit.
    """
    at = clock.now().astimezone(dt.UTC)
    key = (source, where, subject_id, before)
    statement = _per_row_statements.get(key)
    if statement is None:
        q = connection.ops.quote_name
        fields = {f.name: f for f in AuditEvent._meta.concrete_fields}
        names = ("at", "actor", "action", "subject_type", "subject_id", "before", "after")
        columns = ", ".join(q(str(fields[n].column)) for n in (*names, "previous_hash", "hash"))
        statement = _per_row_statements[key] = (
            f"INSERT INTO {q(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608
            f"SELECT %s, %s, %s, %s, ({subject_id})::text, {before}, %s::jsonb, '', '' "
            f"FROM {source} WHERE ({where}) AND {sql.WriteBatch.GUARD_APPLIED}"
        )
    after_json = json.dumps(_jsonable(after), ensure_ascii=False, sort_keys=True)
    batch.depend(statement, [at, actor.label, action, subject_type, after_json, *params])
    batch.after_commit(_seal_after_commit)


# --- sealing: linking appended events into the chain ------------------------------------------


_DIGESTED = ("id", "at", "actor", "action", "subject_type", "subject_id", "before", "after")


def seal_audit_events(*, wait: bool = True, batch: int = 2000) -> int | None:
    """Link every visible unsealed event into the chain; returns how many were sealed.

    Sealers are serialised (an advisory lock on PostgreSQL; SQLite's IMMEDIATE transactions
    admit one writer), so the chain never forks. With `wait=False` a sealer that finds another
    one at work returns None at once. Events of transactions still open are sealed by a later
    call.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT {function}(%s)", [_CHAIN_LOCK_KEY])
                    row = cursor.fetchone()
                if not wait and not (row and row[0]):
                    return sealed or None
            # Read only after the lock: the previous sealer's work is committed and visible.
            last = (
                AuditEvent.objects.filter(seq__isnull=False)
                .order_by("-seq")
                .values_list("seq", "hash")
                .first()
            )
            pending = list(  # plain rows: the digest needs no model instance
                AuditEvent.objects.filter(seq__isnull=True)
                .order_by("id")
                .values_list(*_DIGESTED)[:batch]
            )
            if not pending:
                return sealed
            seq, previous_hash = (int(last[0] or 0), last[1]) if last else (0, GENESIS_HASH)
            links = []
            for pk, at, actor, action, subject_type, subject_id, before, after in pending:
                seq += 1
                digest = _digest_of(
                    at, actor, action, subject_type, subject_id, before, after, previous_hash
                )
                links.append((pk, seq, previous_hash, digest))
                previous_hash = digest
            _write_links(links)
        sealed += len(pending)
        if len(pending) < batch:
            return sealed


def _write_links(links: list[tuple[int, int, str, str]]) -> None:
    """Set (seq, previous_hash, hash) on each (id, …): one statement on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Four arrays, not a VALUES list of 4 × N parameters: a pass of a few hundred events
            # then costs the client no statement splitting and the server no long parse.
            ids, seqs, previous, digests = (list(column) for column in zip(*links, strict=True))
            cursor.execute(
                "UPDATE core_auditevent AS e SET seq = v.seq, previous_hash = v.previous, "
                "hash = v.hash FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) "
                "AS v(id, seq, previous, hash) WHERE e.id = v.id AND e.seq IS NULL",
                [ids, seqs, previous, digests],
            )
        else:
            cursor.executemany(
                "UPDATE core_auditevent SET seq = %s, previous_hash = %s, hash = %s "
                "WHERE id = %s AND seq IS NULL",
                [(seq, previous, digest, pk) for pk, seq, previous, digest in links],
            )


class _BackgroundSealer:
    """One thread per process that seals within the interval after a commit appended events.

    It keeps its own database connection, and uses the non-blocking lock: when another process
    is sealing (and may have missed our events), it simply tries again one interval later.
    """

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._exit_hook = False

    def stop(self) -> None:
        """Seal what is pending, close the thread's connection and end it (tests, shutdown)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._stopping = True
        self._wake.set()
        thread.join(timeout=30)
        self._stopping = False

    def poke(self) -> None:
        if not self._wake.is_set():  # in a rush it mostly is: setting it again costs a lock
            self._wake.set()
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    if not self._exit_hook:  # a command that ends seals what it wrote
                        atexit.register(self.stop)
                        self._exit_hook = True
                    # daemon: an event left unsealed at shutdown is sealed by the next sealer
                    self._thread = threading.Thread(
                        target=self._run, name="audit-sealer", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            if not self._wake.wait(timeout=60):
                connection.close()  # idle for a minute: give the connection back
                continue
            if not self._stopping:
                time.sleep(settings.MADOGUCHI_AUDIT_SEAL_MS / 1000)
            self._wake.clear()
            try:
                connection.close_if_unusable_or_obsolete()
                if seal_audit_events(wait=not self._stopping) is None:
                    self._wake.set()  # someone else is sealing: look again next interval
            except DatabaseError:
                logger.exception("audit events could not be sealed; retrying")
                connection.close()
                self._wake.set()
        connection.close()


_sealer = _BackgroundSealer()


def _seal_after_commit() -> None:
    """Seal now (interval 0: tests, small sites) or within the configured interval.

    With an interval, the process's background sealer links everything written meanwhile, so
    a booking rush pays for sealing once per interval instead of once per request, and no
    request waits for the chain.
    """
    if settings.MADOGUCHI_AUDIT_SEAL_MS <= 0:
        try:
            seal_audit_events()
        except DatabaseError:  # the caller's work is committed; a later sealer links these
            logger.exception("audit events could not be sealed; the next sealer will retry")
        return
    _sealer.poke()


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_id: int | None
    reason: str
    pending: int = 0
    """Events appended but not sealed yet (their transactions just committed, or no sealer ran)."""

    @property
    def intact(self) -> bool:
        return self.first_bad_id is None


def _events() -> Iterator[AuditEvent]:
    return AuditEvent.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=5000)


def verify_audit_chain() -> ChainReport:
    """Recompute every sealed hash in chain order; report the first event whose link or content
    is wrong, and how many events still wait for the sealer."""
    previous_hash = GENESIS_HASH
    checked = 0
    pending = AuditEvent.objects.filter(seq__isnull=True).count()
    for event in _events():
        if event.previous_hash != previous_hash:
            return ChainReport(checked, event.pk, "前の記録とのつながりが切れています", pending)
        if _digest(event) != event.hash:
            return ChainReport(checked, event.pk, "内容が書き換えられています", pending)
        previous_hash = event.hash
        checked += 1
    return ChainReport(checked, None, "", pending)
