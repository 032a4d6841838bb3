"""Writing and verifying the keyed, hash-chained audit log (invariant 3; decisions 0008, 0016).

Three HMAC-SHA256 keys, all derived from `MADOGUCHI_AUDIT_KEY` (never in the database):
- the **row seal** (`mac`): computed by the application when it appends an event, over the
  event's content and a random nonce; the sealer links only rows whose seal it can verify;
- the **chain link** (`hash`): over the content, the row seal, `seq` and the previous link;
- the **checkpoint**: (seq, head) appended to a file outside the database and to the server
  log after every sealing pass; `verify_audit_chain` compares the chain with them.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import Q

from madoguchi.core import clock
from madoguchi.core.models import AuditEvent

GENESIS_HASH = "0" * 64
REJECTED = "rejected"
"""`hash` of a row the sealer would not vouch for (its `seq` is minus its id: out of the chain)."""
_CHAIN_LOCK_KEY = 7_404_030_201  # any constant: one advisory lock for the one chain
logger = logging.getLogger(__name__)
checkpoint_logger = logging.getLogger("madoguchi.audit.checkpoint")


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


# --- keys and MACs ------------------------------------------------------------------------------


@functools.cache
def _derived_keys(secret: str) -> tuple[bytes, bytes, bytes]:
    """(row seal, chain link, checkpoint) keys: one secret, three purposes kept apart."""
    base = secret.encode()
    return tuple(  # type: ignore[return-value]  # three, as the names say
        hmac.new(base, f"madoguchi audit {purpose} v1".encode(), hashlib.sha256).digest()
        for purpose in ("row", "chain", "checkpoint")
    )


def _keys() -> tuple[bytes, bytes, bytes]:
    return _derived_keys(settings.MADOGUCHI_AUDIT_KEY)


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _utc(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


ROW_SCOPE = "r"
"""Row seal over the whole content."""
SQL_ROW_SCOPE = "s"
"""Row seal of an event built in SQL from a locked row (the booking's card event,
`reservations.fastpath`): over everything but `subject_id` and `before`, which only the
statement knows (decision 0016)."""


def _row_mac(
    scope: str,
    nonce: str,
    at: dt.datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    before: Any,
    after: Any,
) -> str:
    payload: dict[str, Any] = {
        "scope": scope,
        "nonce": nonce,
        "at": _utc(at),
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "after": after,
    }
    if scope == ROW_SCOPE:
        payload["subject_id"] = subject_id
        payload["before"] = before
    digest = hmac.new(_keys()[0], _canonical(payload), hashlib.sha256).hexdigest()
    return f"{scope}:{nonce}:{digest}"


def _new_row_mac(
    at: dt.datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    before: Any,
    after: Any,
    scope: str = ROW_SCOPE,
) -> str:
    return _row_mac(
        scope, secrets.token_hex(8), at, actor, action, subject_type, subject_id, before, after
    )


def _row_mac_valid(
    mac: str,
    at: dt.datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    before: Any,
    after: Any,
) -> bool:
    """Did the application (the key's holder) write exactly this content?"""
    scope, _, rest = mac.partition(":")
    nonce, _, _digest = rest.partition(":")
    if scope not in (ROW_SCOPE, SQL_ROW_SCOPE) or len(nonce) != 16:
        return False
    expected = _row_mac(scope, nonce, at, actor, action, subject_type, subject_id, before, after)
    return hmac.compare_digest(expected, mac)


def _link(
    seq: int,
    previous_hash: str,
    at: dt.datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    before: Any,
    after: Any,
    mac: str,
) -> str:
    """The chain link: HMAC of the content, its row seal, its place and the previous link."""
    payload = {
        "seq": seq,
        "previous_hash": previous_hash,
        "at": _utc(at),
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "before": before,
        "after": after,
        "mac": mac,
    }
    return hmac.new(_keys()[1], _canonical(payload), hashlib.sha256).hexdigest()


def _legacy_digest(
    at: dt.datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    before: Any,
    after: Any,
    previous_hash: str,
) -> str:
    """Decision 0004's unkeyed SHA-256 link: read once, by `rekey_legacy_chain`."""
    payload = {
        "at": _utc(at),
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "before": before,
        "after": after,
        "previous_hash": previous_hash,
    }
    return hashlib.sha256(_canonical(payload)).hexdigest()


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


def record_audit_events(*, actor: Actor, events: Sequence[PendingEvent]) -> list[AuditEvent]:
    """Append events in one INSERT, inside the caller's transaction; they commit or vanish with it.

    Appending takes no lock and reads nothing: events are written unsealed, and the sealer
    (`seal_audit_events`) links them into the hash chain in the order their transactions became
    visible, right after commit (decision 0008). Until then the database triggers already refuse
    any change to them. (The booking's own events are appended the same way by its one
    statement on PostgreSQL, `reservations.fastpath`, with seals from `row_seal`.)
    """
    at = clock.now().astimezone(dt.UTC)
    rows = []
    for e in events:
        subject_id, before, after = str(e.subject_id), _jsonable(e.before), _jsonable(e.after)
        rows.append(
            AuditEvent(
                at=at,
                actor=actor.label,
                action=e.action,
                subject_type=e.subject_type,
                subject_id=subject_id,
                before=before,
                after=after,
                # the application's seal: the sealer links only rows it can verify
                mac=_new_row_mac(
                    at, actor.label, e.action, e.subject_type, subject_id, before, after
                ),
            )
        )
    created = AuditEvent.objects.bulk_create(rows)
    transaction.on_commit(seal_after_commit)
    return created


def row_seal(
    *,
    at: dt.datetime,
    actor: Actor,
    action: str,
    subject_type: str,
    after: Any,
    subject_id: str | None = None,
    before: Any = None,
) -> str:
    """The row seal (`mac`) of one event that a hand-written statement appends — the booking's
    (`reservations.fastpath`) — for `after` as Python knows it. With `subject_id` None the
    statement fills the subject and `before` from a row it locked: the seal then covers
    everything else (`SQL_ROW_SCOPE`, decision 0016). One seal per row: each has its nonce."""
    if subject_id is None:
        return _new_row_mac(
            at, actor.label, action, subject_type, "", None, _jsonable(after), SQL_ROW_SCOPE
        )
    return _new_row_mac(
        at, actor.label, action, subject_type, subject_id, _jsonable(before), _jsonable(after)
    )


# --- sealing: linking appended events into the chain ------------------------------------------


_ROW = ("id", "at", "actor", "action", "subject_type", "subject_id", "before", "after", "mac")


def seal_audit_events(*, wait: bool = True, batch: int = 2000) -> int | None:
    """Link every visible unsealed event into the chain; returns how many were linked.

    Sealers are serialised (an advisory lock on PostgreSQL; SQLite's IMMEDIATE transactions
    admit one writer), so the chain never forks. With `wait=False` a sealer that finds another
    one at work returns None at once. Events of transactions still open are sealed by a later
    call.

    The sealer vouches only for what it can verify (decision 0016): a row whose seal (`mac`)
    is not the key's gets `seq = -id` and stays out of the chain (`audit-verify` names it), and
    a chain whose last link is not the key's is not extended at all. After each pass it writes a
    checkpoint (`write_checkpoint`) — so call it outside any transaction (every caller does).
    """
    if connection.vendor == "sqlite" and not wait:
        return _seal_sqlite_without_waiting(batch)
    return _seal(wait=wait, batch=batch)


SQLITE_TRY_MS = 250
"""How long a sealer that must not wait (`wait=False`) waits for SQLite's write lock."""


def _seal_sqlite_without_waiting(batch: int) -> int | None:
    """SQLite has one write lock and a sealer takes it at BEGIN (IMMEDIATE). With the
    connection's busy timeout (20 s) a sealer that met a long write — a register import holds
    the lock for tens of seconds — waited and then failed with "database is locked". Not waiting
    is what `wait=False` means, as PostgreSQL's try-lock: wait at most `SQLITE_TRY_MS`, and when
    the lock is still held answer None (another writer is at work; the caller looks again)."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        row = cursor.fetchone()
        previous = int(row[0]) if row else 0
        cursor.execute(f"PRAGMA busy_timeout = {min(previous, SQLITE_TRY_MS)}")
    try:
        return _seal(wait=False, batch=batch)
    except OperationalError as error:
        if "locked" not in str(error) and "busy" not in str(error):
            raise
        logger.debug("audit sealing deferred: another writer holds the database (%s)", error)
        return None
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {previous}")


def _seal(*, wait: bool, batch: int) -> int | None:
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
                AuditEvent.objects.filter(seq__gt=0)
                .order_by("-seq")
                .values_list("seq", "previous_hash", "hash", *_ROW[1:])
                .first()
            )
            pending = list(  # plain rows: the checks need no model instance
                AuditEvent.objects.filter(seq__isnull=True)
                .order_by("id")
                .values_list(*_ROW)[:batch]
            )
            if not pending:
                return sealed
            if last is None:
                seq, previous_hash = 0, GENESIS_HASH
            else:
                seq, previous_hash = int(last[0]), str(last[2])
                if _link(int(last[0]), last[1], *last[3:]) != last[2] or not _row_mac_valid(
                    last[-1], *last[3:-1]
                ):
                    logger.critical(
                        "audit chain head #%s is not the key's: sealing stopped; run "
                        "`madoguchi audit-verify`",
                        seq,
                    )
                    return sealed
            links, rejected = [], []
            for pk, at, actor, action, subject_type, subject_id, before, after, mac in pending:
                content = (at, actor, action, subject_type, subject_id, before, after)
                if not _row_mac_valid(mac, *content):
                    rejected.append(pk)
                    links.append((pk, -pk, "", REJECTED))
                    continue
                seq += 1
                digest = _link(seq, previous_hash, *content, mac)
                links.append((pk, seq, previous_hash, digest))
                previous_hash = digest
            _write_links(links)
        chained = len(pending) - len(rejected)
        if rejected:
            logger.error(
                "audit events %s carry no valid seal of this key: kept out of the chain "
                "(forged rows?) — run `madoguchi audit-verify`",
                rejected,
            )
        if chained:
            write_checkpoint(seq, previous_hash)
        sealed += chained
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


# --- checkpoints: the chain's head, anchored outside the database --------------------------------


def _checkpoint_mac(body: dict[str, Any]) -> str:
    unsigned = {k: v for k, v in body.items() if k != "mac"}
    return hmac.new(_keys()[2], _canonical(unsigned), hashlib.sha256).hexdigest()


def checkpoint_line(kind: str, seq: int, head: str, **extra: Any) -> str:
    """One keyed checkpoint as a JSON line: `seal` after a sealing pass, `restore` after a
    restore (`core.backup`: the chain restarts from the backup's head)."""
    body: dict[str, Any] = {
        "v": 1,
        "kind": kind,
        "seq": seq,
        "head": head,
        "at": _utc(clock.now()),
        **extra,
    }
    body["mac"] = _checkpoint_mac(body)
    return json.dumps(body, ensure_ascii=False, sort_keys=True)


def write_checkpoint(seq: int, head: str, *, kind: str = "seal", **extra: Any) -> None:
    """Append a checkpoint to `MADOGUCHI_AUDIT_CHECKPOINT_FILE` (O_APPEND: one line is one
    write, so processes never interleave; synced) and to the server log. A failure to write the
    file is logged, never raised: the events are sealed, and the next pass anchors them."""
    line = checkpoint_line(kind, seq, head, **extra)
    path = Path(settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        logger.exception("audit checkpoint could not be written to %s", path)
    checkpoint_logger.info("audit checkpoint %s", line)


@dataclass(frozen=True)
class Checkpoint:
    line: int
    kind: str
    seq: int
    head: str
    at: str
    extra: dict[str, Any] = field(default_factory=dict)


def read_checkpoints(lines: Iterable[str]) -> tuple[list[Checkpoint], list[int]]:
    """The checkpoints in `lines` (a checkpoint file, or server log lines that contain them),
    and the numbers of lines that look like checkpoints but whose MAC is not the key's."""
    good, bad = [], []
    for number, text in enumerate(lines, start=1):
        # a line of the checkpoint file, or the server log's "audit checkpoint {…}"
        marker = text.find("audit checkpoint {")
        if text.startswith("{"):
            start = 0
        elif marker >= 0:
            start = marker + len("audit checkpoint ")
        else:
            continue
        try:
            body = json.loads(text[start:])
            mac = str(body["mac"])
            valid = isinstance(body, dict) and hmac.compare_digest(_checkpoint_mac(body), mac)
            checkpoint = Checkpoint(
                number,
                str(body["kind"]),
                int(body["seq"]),
                str(body["head"]),
                str(body["at"]),
                {
                    k: v
                    for k, v in body.items()
                    if k not in {"v", "kind", "seq", "head", "at", "mac"}
                },
            )
        except (ValueError, KeyError, TypeError):
            bad.append(number)
            continue
        if valid and checkpoint.kind in {"seal", "restore"}:
            good.append(checkpoint)
        else:
            bad.append(number)
    return good, bad


class _BackgroundSealer:
    """One thread per process that seals within the interval after a commit appended events.

    It keeps its own database connection, and uses the non-blocking lock: when another process
    is sealing (and may have missed our events), it simply tries again one interval later.
    """

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._halt = threading.Event()
        """Set by `stop`: ends the interval's wait at once, so a command that ends seals and
        exits without first sitting out the rest of the interval."""
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
        self._halt.set()
        self._wake.set()
        thread.join(timeout=30)
        self._stopping = False
        self._halt.clear()

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

    def seal_once(self) -> int | None:
        """One pass: while running, with the non-blocking lock — a pass that finds another
        process's sealer at work returns None at once (it would otherwise wait for that pass
        and then read the chain's head and an almost empty batch again: every process's sealer
        runs after each interval of a rush). When stopping, it waits: what is pending is
        sealed before the process ends."""
        return seal_audit_events(wait=self._stopping)

    def _run(self) -> None:
        while True:
            if not self._wake.wait(timeout=60):
                connection.close()  # idle for a minute: give the connection back
                continue
            if not self._stopping:  # the interval; `stop` ends it early
                self._halt.wait(timeout=settings.MADOGUCHI_AUDIT_SEAL_MS / 1000)
            self._wake.clear()
            # read after the clear: a `stop` not seen here sets the wake again, and the next
            # round is the waiting pass — even for a `stop` that came before the first round
            stopping = self._stopping
            try:
                connection.close_if_unusable_or_obsolete()
                if self.seal_once() is None:
                    self._wake.set()  # someone else is sealing: look again next interval
            except DatabaseError:
                logger.exception("audit events could not be sealed; retrying")
                connection.close()
                self._wake.set()
            if stopping:
                break
        connection.close()


_sealer = _BackgroundSealer()


def seal_after_commit() -> None:
    """Seal now (interval 0: tests, small sites) or within the configured interval; call it
    after a commit that appended events (`transaction.on_commit`).

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
class Finding:
    """One thing wrong with the log: `kind` is a stable name (docs/audit.md lists them)."""

    kind: str
    event_id: int | None
    message: str


FINDING_TITLES = {
    "link-broken": "つながりの切断（途中の記録の削除・入れ替え）",
    "rewritten": "記録の書き換え",
    "forged": "偽造された記録の追加",
    "forged-seal": "鍵によらない封印",
    "tail-deleted": "末尾の記録の削除",
    "checkpoint-mismatch": "チェックポイントとの不一致（チェーンの作り直し）",
    "checkpoint-forged": "偽造されたチェックポイント",
    "no-checkpoint": "チェックポイントがない",
    "unvouched": "署名のない未封印の記録（偽造）",
    "withheld": "チェーンから外された正しい記録",
    "duplicate": "複製された記録",
}


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_id: int | None
    reason: str
    pending: int = 0
    """Events appended but not sealed yet (their transactions just committed, or no sealer ran)."""
    findings: tuple[Finding, ...] = ()
    checkpoints: int = 0
    """Checkpoints the chain was compared with."""
    notes: tuple[str, ...] = ()
    """What verification found that is not damage (restores and the events they gave up)."""

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def kinds(self) -> list[str]:
        return [f.kind for f in self.findings]


def _events() -> Iterator[tuple[Any, ...]]:
    return (
        AuditEvent.objects.filter(seq__gt=0)
        .order_by("seq")
        .values_list("seq", "previous_hash", "hash", *_ROW)
        .iterator(chunk_size=5000)
    )


def _checkpoint_file_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def verify_audit_chain(*, checkpoint_file: Path | None = None) -> ChainReport:
    """Check the log against the key and the checkpoints; name everything wrong.

    Every sealed event in `seq` order: its link to the previous one, its row seal (the
    application wrote this content) and its chain link (the key's sealer linked it) — each
    failure is named, by whether a checkpoint already covered it (`rewritten`) or not
    (`forged`); the walk goes on from the damaged event as stored, so a later forgery is named
    too (a run of damaged events once, by its first). Then every checkpoint: the chain must
    reach it (`tail-deleted`) and hold its head (`checkpoint-mismatch`); a `restore` checkpoint
    ends the ones before it past its own head (those events were given up with the restore: a
    note, not damage). Then the rows
    outside the chain: unsealed ones with no valid seal, and any the sealer kept out.
    """
    path = Path(checkpoint_file or settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE)
    checkpoints, bad_lines = read_checkpoints(_checkpoint_file_lines(path))
    findings = [
        Finding("checkpoint-forged", None, f"{path} の {n} 行目の署名が鍵と合いません")
        for n in bad_lines
    ]
    notes: list[str] = []
    expected: dict[int, Checkpoint] = {}
    for checkpoint in checkpoints:
        if checkpoint.kind == "restore":
            lost = sorted(seq for seq in expected if seq > checkpoint.seq)
            if lost:
                notes.append(
                    f"{checkpoint.at} のリストア（{checkpoint.extra.get('backup', '')}）で"
                    f" #{checkpoint.seq + 1}–#{max(lost)} の記録はバックアップ以後のため"
                    "失われました"
                )
            for seq in lost:
                del expected[seq]
        expected[checkpoint.seq] = checkpoint
    anchored = max(expected, default=0)

    heads: dict[int, str] = {0: GENESIS_HASH}
    seen_nonces: set[int] = set()
    previous_hash, checked, last_seq = GENESIS_HASH, 0, 0
    failed = previous_broken = False
    for seq, link, digest, pk, *content, mac in _events():
        if seq in expected:
            heads[seq] = digest
        where = "チェックポイントより前" if seq <= anchored else "チェックポイントより後"
        broken = False
        found_before = len(findings)
        if seq != last_seq + 1 or link != previous_hash:
            findings.append(
                Finding(
                    "link-broken",
                    pk,
                    f"記録 #{pk}（順番 {seq}）: 前の記録とのつながりが切れています"
                    "（途中の記録が消されたか入れ替えられています）",
                )
            )
            broken = True
        if not _row_mac_valid(mac, *content):
            kind = "rewritten" if seq <= anchored else "forged"
            text = (
                "内容がアプリケーションの記録したものと違います（書き換えられています）"
                if kind == "rewritten"
                else "アプリケーションの鍵による署名がありません"
                "（鍵を持たない者が追加した記録です）"
            )
            findings.append(Finding(kind, pk, f"記録 #{pk}（順番 {seq}、{where}）: {text}"))
            broken = True
        elif _link(seq, link, *content, mac) != digest:  # type: ignore[call-arg]  # 7 columns
            findings.append(
                Finding(
                    "forged-seal",
                    pk,
                    f"記録 #{pk}（順番 {seq}、{where}）: 封印のハッシュが鍵と合いません"
                    "（鍵を持たない者がチェーンをつなぎました）",
                )
            )
            broken = True
        else:
            nonce = int(mac[2:18], 16)
            if nonce in seen_nonces:
                findings.append(
                    Finding(
                        "duplicate",
                        pk,
                        f"記録 #{pk}（順番 {seq}）: 同じ署名の記録がすでにあります",
                    )
                )
                broken = True
            seen_nonces.add(nonce)
        # The next event is checked against this one as stored, so a forgery after a first one
        # is named too (the walk used to stop at the first: later damage went unseen for good).
        # A damaged stretch is named once, by its first event (a chain recomputed from there,
        # or the wrong key, fails every event after it).
        if broken and previous_broken:
            del findings[found_before:]
        previous_hash, last_seq, previous_broken = digest, seq, broken
        failed = failed or broken
        if not failed:
            checked += 1

    if last_seq and not checkpoints:
        findings.append(
            Finding(
                "no-checkpoint",
                None,
                f"封印済みの記録が {last_seq} 件ありますが、チェックポイント（{path}）がありません",
            )
        )
    if anchored > last_seq:
        checkpoint = expected[anchored]
        findings.append(
            Finding(
                "tail-deleted",
                None,
                f"チェックポイント（{path} の {checkpoint.line} 行目）では順番 {anchored} まで"
                f"ありますが、チェーンは順番 {last_seq} で終わっています"
                f"（末尾の {anchored - last_seq} 件が消されています）",
            )
        )
    for seq in sorted(s for s in expected if s <= last_seq):
        checkpoint = expected[seq]
        if heads.get(seq) != checkpoint.head:
            findings.append(
                Finding(
                    "checkpoint-mismatch",
                    None,
                    f"チェックポイント（{path} の {checkpoint.line} 行目、順番 {seq}）の"
                    "ハッシュとチェーンが一致しません（チェーンが作り直されています）",
                )
            )
            break

    pending = 0
    outside = AuditEvent.objects.filter(Q(seq__isnull=True) | Q(seq__lt=0)).order_by("id")
    for seq, pk, *content, mac in outside.values_list("seq", *_ROW).iterator(chunk_size=5000):
        valid = _row_mac_valid(mac, *content)
        if seq is None and valid:
            pending += 1
        elif valid:
            findings.append(
                Finding(
                    "withheld",
                    pk,
                    f"記録 #{pk}: 正しく署名された記録がチェーンから外されています",
                )
            )
        else:
            state = "封印を拒否されました" if seq is not None else "封印されていません"
            findings.append(
                Finding(
                    "unvouched",
                    pk,
                    f"記録 #{pk}: アプリケーションの鍵による署名がありません"
                    f"（アプリケーションが書いた記録ではありません。{state}）",
                )
            )

    first = findings[0] if findings else None
    return ChainReport(
        checked=checked,
        first_bad_id=first.event_id if first else None,
        reason=first.message if first else "",
        pending=pending,
        findings=tuple(findings),
        checkpoints=len(expected),
        notes=tuple(notes),
    )


def rekey_legacy_chain(connection: Any) -> int:
    """Migration 0005: seal every existing event with the key (decision 0016).

    Verifies the unkeyed chain of decision 0004 first and refuses (naming the event) if it is
    broken — the key is given only to a history that checks out. Unsealed events get their row
    seal and join the chain after it. Runs with the triggers lifted (the migration does that);
    writes a checkpoint for the new head. Returns how many events were sealed.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, seq, previous_hash, hash, at, actor, action, subject_type, subject_id, "
            "before, after FROM core_auditevent ORDER BY seq IS NULL, seq, id"
        )
        rows = cursor.fetchall()
    previous = GENESIS_HASH
    updates: list[tuple[int, str, str, str, int]] = []
    for number, (pk, seq, link, digest, at, *rest) in enumerate(rows, start=1):
        if isinstance(at, str):  # SQLite hands back text (UTC)
            at = dt.datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        actor, action, subject_type, subject_id, before, after = rest
        before = json.loads(before) if isinstance(before, str) else before
        after = json.loads(after) if isinstance(after, str) else after
        content = (at, actor, action, subject_type, subject_id, before, after)
        if seq is not None and (link != previous or _legacy_digest(*content, link) != digest):
            raise RuntimeError(
                f"audit event #{pk} breaks the unkeyed chain: run the previous release's "
                "`madoguchi audit-verify`; the key is given only to an intact history"
            )
        if seq is not None:
            previous = digest
        mac = _new_row_mac(*content)
        keyed = _link(number, updates[-1][3] if updates else GENESIS_HASH, *content, mac)
        updates.append((number, updates[-1][3] if updates else GENESIS_HASH, mac, keyed, pk))
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE core_auditevent SET seq = %s, previous_hash = %s, mac = %s, hash = %s "
            "WHERE id = %s",
            updates,
        )
    if updates:
        write_checkpoint(len(updates), updates[-1][3])
    return len(updates)
