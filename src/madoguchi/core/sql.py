"""Hand-written statements for the few hot paths, built from the models' own field metadata.

The ORM compiles every query anew, which on the booking path costs more than the database's
own work (bench/README.md "Booking rush"). These helpers write the same rows with one plain
statement each: column names, value preparation (`get_db_prep_save`) and result conversion come
from the model and the backend, so they stay right when a model changes. Use them only where a
benchmark shows the need; everything else goes through the ORM.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import DateField, DateTimeField

# Table and column names below come from model metadata, quoted by the backend; values always
# travel as parameters (hence the `noqa: S608`s). `where` strings are constants of the callers.

M = TypeVar("M", bound=models.Model)
logger = logging.getLogger(__name__)

# Statement texts and field lists are built once per model, column set and backend: quoting a
# name goes through the connection proxy, which costs more than the statement's own work here.
_statements: dict[tuple[Any, ...], tuple[str, list[Any]]] = {}


_CONSTANT = re.compile(r"[A-Za-z0-9_.:-]*")


def constants(*values: str) -> str:
    """Code constants (status names…) as SQL string literals, comma-separated — never user input.

    For the hot statements: psycopg caches the parsing of a statement only while it has at most
    50 parameters (`psycopg._queries.MAX_CACHED_STATEMENT_PARAMS`); past that it re-parses the
    whole text on every call — the booking's largest item in a profile (decision 0011).
    Constants written into the text keep the parameters for the values that vary."""
    for value in values:
        if not _CONSTANT.fullmatch(value):
            raise ValueError(f"not a plain constant: {value!r}")
    return ", ".join(f"'{value}'" for value in values)


def _db() -> BaseDatabaseWrapper:
    return connections[DEFAULT_DB_ALIAS]


_PLAIN = (str, int, bool)


def _prep(db: BaseDatabaseWrapper, field: Any, value: Any) -> Any:
    if isinstance(value, models.Model):  # a related object given by name: store its key
        value = value.pk
    kind = type(value)
    if (value is None or kind in _PLAIN) and not isinstance(field, models.JSONField):
        return value  # what get_db_prep_save would return for these, at a fraction of the cost
    if db.vendor == "postgresql" and (
        (kind is dt.datetime and value.tzinfo is not None and isinstance(field, DateTimeField))
        or (kind is dt.date and type(field) is DateField)
    ):
        return value  # the same: PostgreSQL's adapters take aware datetimes and dates as they are
    return field.get_db_prep_save(value, db)


def _insert_statement(
    db: BaseDatabaseWrapper, model: type[models.Model], names: tuple[str, ...], count: int
) -> tuple[str, list[Any]]:
    key = ("insert", model, names, count, db.vendor)
    found = _statements.get(key)
    if found is None:
        q = db.ops.quote_name
        fields: list[Any] = [model._meta.get_field(name) for name in names]
        columns = ", ".join(q(f.column) for f in fields)
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        pk = q(str(model._meta.pk.column))
        values = ", ".join([one] * count)
        sql = f"INSERT INTO {q(model._meta.db_table)} ({columns}) VALUES {values} RETURNING {pk}"  # noqa: S608
        found = _statements[key] = (sql, fields)
    return found


def _insert(
    db: BaseDatabaseWrapper, model: type[models.Model], rows: Sequence[Mapping[str, Any]]
) -> tuple[str, list[Any]]:
    names = tuple(rows[0])
    sql, fields = _insert_statement(db, model, names, len(rows))
    params = [
        _prep(db, f, row[name]) for row in rows for name, f in zip(names, fields, strict=True)
    ]
    return sql, params


def insert_rows(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """INSERT `rows` (attribute name → value; all rows with the same keys) in one statement;
    returns the new primary keys in order."""
    db = _db()
    sql, params = _insert(db, model, rows)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(int(row[0]) for row in cursor.fetchall())  # keys grow in VALUES order


def update_row(model: type[models.Model], pk: int, values: Mapping[str, Any]) -> int:
    """UPDATE one row by primary key; returns the number of rows changed (0 or 1)."""
    db = _db()
    sql, params = _update(db, model, pk, values)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _update(
    db: BaseDatabaseWrapper, model: type[models.Model], pk: int, values: Mapping[str, Any]
) -> tuple[str, list[Any]]:
    names = tuple(values)
    key = ("update", model, names, db.vendor)
    found = _statements.get(key)
    if found is None:
        q = db.ops.quote_name
        fields: list[Any] = [model._meta.get_field(name) for name in names]
        assignments = ", ".join(f"{q(f.column)} = %s" for f in fields)
        pk_column = q(str(model._meta.pk.column))
        sql = f"UPDATE {q(model._meta.db_table)} SET {assignments} WHERE {pk_column} = %s"  # noqa: S608
        found = _statements[key] = (sql, fields)
    sql, fields = found
    params = [_prep(db, f, value) for f, value in zip(fields, values.values(), strict=True)]
    return sql, [*params, pk]


class WriteBatch:
    """Writes that do not read each other's results, sent together when `run()` is called.

    On PostgreSQL they become ONE statement — each write a data-modifying WITH query, all
    executed exactly once against the same snapshot, row locks and re-checks as if run alone —
    so a transaction's writes cost one round trip and one statement's overhead instead of one
    each. Elsewhere (SQLite) they run one after another. Any failure fails them all (and the
    caller's transaction). Each write may return the primary keys it touched (`RETURNING`).
    Never queue two writes to the same row: in one statement only one of them would apply.

    A batch may have one `guard`: a conditional write (e.g. the seat claim) that every other
    write depends on. It runs first; when it touches no row, nothing else is written — so the
    batch can be committed in the same round trip without looking at its result first
    (`ShortTransaction.commit`).

    On PostgreSQL a guarded batch may also begin with locking reads (`lock`) that the guard and
    hand-written writes (`depend`) read by name: what Python would otherwise read in a round
    trip of its own to decide — e.g. whether a card may be booked — is decided in the same
    statement, and `run()` reports what the lock found so Python can say why nothing applied.
    """

    GUARD = "g"
    """The guard's name in the statement."""
    GUARD_APPLIED = f"EXISTS (SELECT 1 FROM {GUARD})"  # noqa: S608  a constant
    """The condition every other write of a guarded batch carries (`depend`s in their text)."""

    def __init__(self) -> None:
        self._db = _db()
        # (statement, parameters, the column it RETURNs or "")
        self._writes: list[tuple[str, list[Any], str]] = []
        self._row_counts: dict[int, int] = {}  # writes queued by `insert`: their row count
        self._updates: set[int] = set()  # writes queued by `update` (one row by key)
        self._guard: int | None = None
        self._locks: set[int] = set()  # writes queued by `lock` (locking reads, not writes)
        self._depends: set[int] = set()  # writes queued by `depend`
        self._after_commit: list[Callable[[], None]] = []

    def insert(self, model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> int:
        """Queue an INSERT of `rows`; returns the write's index (its new keys, from `run()`)."""
        sql, params = _insert(self._db, model, rows)  # ends in RETURNING the primary key
        pk = self._db.ops.quote_name(str(model._meta.pk.column))
        self._writes.append((sql, params, pk))
        self._row_counts[len(self._writes) - 1] = len(rows)
        return len(self._writes) - 1

    def update(self, model: type[models.Model], pk: int, values: Mapping[str, Any]) -> None:
        """Queue an UPDATE of one row by primary key."""
        sql, params = _update(self._db, model, pk, values)
        self._writes.append((sql, params, ""))
        self._updates.add(len(self._writes) - 1)

    def execute(self, sql: str, params: Sequence[Any], *, returning: str = "") -> int:
        """Queue a hand-written INSERT/UPDATE; with `returning` (a column), `run()` gives the
        values of the rows it touched — e.g. the id of a slot whose seats were claimed."""
        if returning:
            sql = f"{sql} RETURNING {returning}"
        self._writes.append((sql, list(params), returning))
        return len(self._writes) - 1

    def guard(self, sql: str, params: Sequence[Any], *, returning: str) -> int:
        """Queue the conditional write the whole batch depends on (an UPDATE … WHERE …): run
        first, and when it touches no row nothing else in the batch is written. At most one."""
        if self._guard is not None:
            raise ValueError("a write batch has at most one guard")
        self._guard = self.execute(sql, params, returning=returning)
        return self._guard

    def lock(self, sql: str, params: Sequence[Any]) -> tuple[int, str]:
        """PostgreSQL only. Queue a locking read — `SELECT id, <condition> AS ready, … FOR
        UPDATE` — run before the guard (so its row locks come first, in its ORDER BY), for the
        guard and `depend` writes to read by the returned name. `run()` gives its rows as
        (id, ready) pairs at the returned index."""
        self._require_postgresql("lock")
        self._writes.append((sql, list(params), ""))
        index = len(self._writes) - 1
        self._locks.add(index)
        return index, _lock_name(index)

    def depend(self, sql: str, params: Sequence[Any], *, returning: str = "") -> int:
        """PostgreSQL only. Queue a hand-written write of a guarded batch whose text itself
        requires the guard (`… AND {GUARD_APPLIED}`), e.g. one that reads a `lock`."""
        self._require_postgresql("depend")
        if WriteBatch.GUARD_APPLIED not in sql:
            raise ValueError("a dependent write must require the guard in its own text")
        index = self.execute(sql, params, returning=returning)
        self._depends.add(index)
        return index

    def _require_postgresql(self, what: str) -> None:
        if self._db.vendor != "postgresql":
            raise NotImplementedError(f"WriteBatch.{what} needs PostgreSQL (one WITH statement)")

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once after the transaction that runs this batch commits."""
        if callback not in self._after_commit:
            self._after_commit.append(callback)

    def run(self) -> list[list[Any]]:
        """Send the writes, inside the caller's transaction (`transaction.atomic()`); returns,
        per write, the keys it returned (in row order for inserts), else [] — for a `lock`,
        its rows' (id, ready) pairs."""
        results = self._send()
        for callback in self._after_commit:
            transaction.on_commit(callback)
        return results

    def _send(self, *, suffix: str = "", prefix: str = "", cursor: Any = None) -> list[list[Any]]:
        """Run the writes; on PostgreSQL with `prefix`/`suffix` statements (BEGIN, COMMIT) in
        the same round trip, on `cursor` when given."""
        results: list[list[Any]] = [[] for _ in self._writes]
        if not self._writes:
            return results
        if self._db.vendor == "postgresql":
            if cursor is not None:
                return self._send_one(cursor, results, prefix, suffix)
            with self._db.cursor() as own:
                return self._send_one(own, results, prefix, suffix)
        with self._db.cursor() as cursor:
            order = list(range(len(self._writes)))
            if self._guard is not None:  # the guard first; nothing else when it found no row
                order.remove(self._guard)
                order.insert(0, self._guard)
            for i in order:
                sql, params, returning = self._writes[i]
                cursor.execute(sql, params)
                if returning:
                    results[i] = [int(row[0]) for row in cursor.fetchall()]
                if i == self._guard and not results[i]:
                    break
        return [sorted(r) for r in results]  # keys grow in VALUES order

    def _send_one(
        self, cursor: Any, results: list[list[Any]], prefix: str, suffix: str
    ) -> list[list[Any]]:
        statement, params = self._statement()
        cursor.execute(prefix + statement + suffix, params)
        if prefix:
            cursor.nextset()  # past BEGIN's own result
        for index, row, value in sorted(cursor.fetchall()):
            if index in self._locks:
                results[index].append((int(row), bool(value)))
            else:
                results[index].append(int(value))
        return results

    def _statement(self) -> tuple[str, list[Any]]:
        """The PostgreSQL form: one WITH query per write (per row for guarded inserts), then a
        SELECT of (write, row, key) for every write that returns keys."""
        parts: list[str] = []
        params: list[Any] = []
        selects: list[str] = []
        guarded = self._guard is not None
        if (self._locks or self._depends) and not guarded:
            raise ValueError("locking reads and dependent writes belong to a guarded batch")
        for i in sorted(self._locks):  # first: their locks before the guard's
            sql, lock_params, _ = self._writes[i]
            parts.append(f"{_lock_name(i)} AS MATERIALIZED ({sql})")
            params.extend(lock_params)
            selects.append(f"SELECT {i}, id, ready::int FROM {_lock_name(i)}")  # noqa: S608
        if guarded:
            sql, guard_params, returning = self._writes[self._guard]  # type: ignore[index]
            parts.append(f"{self.GUARD} AS ({sql})")
            params.extend(guard_params)
            selects.append(f"SELECT {self._guard}, 0, {returning} FROM {self.GUARD}")  # noqa: S608
        for i, (sql, write_params, returning) in enumerate(self._writes):
            if i == self._guard or i in self._locks:
                continue
            if not guarded or i in self._depends:  # a `depend`'s own text requires the guard
                parts.append(f"w{i} AS ({sql})")
                params.extend(write_params)
                if returning:
                    # multi-row VALUES get keys in row order: ordered by key below
                    selects.append(f"SELECT {i}, {returning}, {returning} FROM w{i}")  # noqa: S608
                continue
            if i in self._row_counts:  # INSERT … SELECT <row> WHERE EXISTS: one query per row
                head = sql[: sql.index(" VALUES ")]
                width = len(write_params) // self._row_counts[i]
                for r in range(self._row_counts[i]):
                    row = write_params[r * width : (r + 1) * width]
                    values = ", ".join(["%s"] * width)
                    parts.append(
                        f"w{i}_{r} AS ({head} SELECT {values} "
                        f"WHERE {self.GUARD_APPLIED} RETURNING {returning})"
                    )
                    params.extend(row)
                    selects.append(f"SELECT {i}, {r}, {returning} FROM w{i}_{r}")  # noqa: S608
                continue
            if i not in self._updates:  # a hand-written WHERE could bind looser than AND
                raise ValueError("a guarded batch holds `insert` and `update` writes only")
            # `update` ends in "WHERE pk = %s"; the guard joins it
            parts.append(f"w{i} AS ({sql} AND {self.GUARD_APPLIED})")
            params.extend(write_params)
        if not selects:
            selects = ["SELECT NULL::int, NULL::bigint, NULL::bigint WHERE false"]
        return f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)}", params


def _lock_name(index: int) -> str:
    """A `WriteBatch.lock`'s name inside the statement."""
    return f"l{index}"


class ShortTransaction:
    """A short write transaction in one or two round trips on PostgreSQL instead of three or four.

    `transaction.atomic()` sends BEGIN and COMMIT as statements of their own (psycopg begins
    in a round trip before the first query); on the booking path those two cost about as much
    as the booking's own statements (bench/README.md "Booking rush"). Here BEGIN travels with
    the first statement and COMMIT with the last: `tx.select_rows(…, lock=True)` reads and
    locks, Python decides, `tx.commit(batch)` sends every write as one guarded `WriteBatch`
    statement followed by COMMIT — or, with the reads folded into the batch as `lock`s, the
    commit alone is the transaction's one round trip (decision 0011). Leaving the block any
    other way — an exception, a refusal, no commit — rolls back.

    While it is open nothing else may use the connection: any other statement (an ORM query,
    a nested `transaction.atomic()`) is refused with an error rather than run inside it.
    Inside an atomic block already (tests), on SQLite, or with `compact=False` it is an
    ordinary `transaction.atomic()` and the same calls run one by one.
    """

    def __init__(self, db: BaseDatabaseWrapper, *, compact: bool) -> None:
        self._db = db
        self.compact = compact
        self._begun = False
        self._open = True
        self._own = False
        self._committed = False
        self._cursor: Any = None  # one cursor for the transaction's statements

    def _cursor_for_statement(self) -> Any:
        if self._cursor is None:
            self._cursor = self._db.cursor()
        return self._cursor

    def select_rows(
        self,
        model: type[M],
        where: str,
        params: Sequence[Any],
        *,
        lock: bool = False,
        only: tuple[str, ...] = (),
    ) -> list[M]:
        """`select_rows` inside this transaction (the first statement also begins it)."""
        self._check_open()
        if not self.compact:
            return select_rows(model, where, params, lock=lock, only=only)
        sql = _select_sql(self._db, model, where, lock=lock, only=only)
        prefix = self._begin()
        with self._own_statement():
            cursor = self._cursor_for_statement()
            cursor.execute(prefix + sql, params)
            if prefix:
                cursor.nextset()  # past BEGIN's own result
            rows = cursor.fetchall()
        return _instances(self._db, model, rows, only)

    def commit(self, batch: WriteBatch) -> list[list[Any]]:
        """Run `batch` and commit; returns what `WriteBatch.run` returns. The commit does not
        wait to look at the results: give the batch a `guard` when part of it may not apply."""
        self._check_open()
        if not self.compact:
            self._open = False
            return batch.run()  # committed when the atomic block ends
        with self._own_statement():
            cursor = self._cursor_for_statement()
            if batch._writes:
                results = batch._send(prefix=self._begin(), suffix="; COMMIT", cursor=cursor)
            else:
                results = []
                if self._begun:
                    cursor.execute("COMMIT")
        self._open = False
        self._committed = True
        for callback in batch._after_commit:
            callback()
        return results

    def _begin(self) -> str:
        if self._begun:
            return ""
        self._begun = True
        level = getattr(self._db.connection, "isolation_level", None)
        return f"BEGIN ISOLATION LEVEL {level.name.replace('_', ' ')}; " if level else "BEGIN; "

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("the short transaction has already committed")

    @contextmanager
    def _own_statement(self) -> Iterator[None]:
        self._own = True
        try:
            yield
        finally:
            self._own = False

    def _refuse_others(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self._open and not self._own:
            raise RuntimeError(
                "no other statement may run inside a short transaction: "
                "use tx.select_rows and tx.commit, or transaction.atomic()"
            )
        return execute(sql, params, many, context)

    def _end(self) -> None:
        """Roll back what is still open (an exception, or no commit)."""
        import psycopg  # compact transactions exist on PostgreSQL only

        self._open = False
        if self._cursor is not None:
            self._cursor.close()
        if self._committed:  # the COMMIT went out with the last statement and succeeded
            return
        raw = self._db.connection
        if raw is None or raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            return
        try:
            raw.execute("ROLLBACK")
        except psycopg.Error:  # a broken connection: Django discards it after the request
            logger.warning("rollback of a short transaction failed", exc_info=True)


@contextmanager
def short_transaction(*, compact: bool = True) -> Iterator[ShortTransaction]:
    """Open a `ShortTransaction` (see there)."""
    db = _db()
    if not (
        compact and db.vendor == "postgresql" and db.get_autocommit() and not db.in_atomic_block
    ):
        with transaction.atomic():
            yield ShortTransaction(db, compact=False)
        return
    tx = ShortTransaction(db, compact=True)
    with db.execute_wrapper(tx._refuse_others):
        try:
            yield tx
        finally:
            tx._end()


def _reader(
    db: BaseDatabaseWrapper, model: type[models.Model], only: tuple[str, ...] = ()
) -> tuple[str, list[str], list[tuple[int, Any, list[Any]]]]:
    """The SELECT head, attribute names and per-column converters for reading `model` rows on
    this backend (what the ORM applies; e.g. SQLite returns datetimes as text). With `only`
    (attribute names), just those columns and the primary key; the rest stay deferred."""
    key = ("select", model, db.vendor, only)
    reader = _readers.get(key)
    if reader is None:
        q = db.ops.quote_name
        fields = [
            f for f in model._meta.concrete_fields if not only or f.primary_key or f.attname in only
        ]
        converters = []
        for index, field in enumerate(fields):
            col = field.cached_col
            found = db.ops.get_db_converters(col) + field.get_db_converters(db)
            if found:
                converters.append((index, col, found))
        columns = ", ".join(q(str(f.column)) for f in fields)
        head = f"SELECT {columns} FROM {q(model._meta.db_table)} WHERE "  # noqa: S608
        reader = _readers[key] = (head, [f.attname for f in fields], converters)
    return reader


_readers: dict[tuple[Any, ...], Any] = {}


def _select_sql(
    db: BaseDatabaseWrapper,
    model: type[models.Model],
    where: str,
    *,
    lock: bool,
    only: tuple[str, ...] = (),
) -> str:
    sql = _reader(db, model, only)[0] + where
    if lock and db.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql


def _instances(
    db: BaseDatabaseWrapper,
    model: type[M],
    rows: Sequence[Sequence[Any]],
    only: tuple[str, ...] = (),
) -> list[M]:
    _, names, converters = _reader(db, model, only)
    instances = []
    for row in rows:
        values = list(row)
        for index, col, functions in converters:
            for convert in functions:
                values[index] = convert(values[index], col, db)
        instances.append(model.from_db(db.alias, names, values))
    return instances


def select_rows(
    model: type[M],
    where: str,
    params: Sequence[Any],
    *,
    lock: bool = False,
    only: tuple[str, ...] = (),
) -> list[M]:
    """Model instances for `SELECT … WHERE <where>` (columns converted as the ORM would),
    with `FOR UPDATE` when `lock` and the backend has it (SQLite's IMMEDIATE transactions
    already hold the database); with `only`, just those attributes and the primary key."""
    db = _db()
    with db.cursor() as cursor:
        cursor.execute(_select_sql(db, model, where, lock=lock, only=only), params)
        rows = cursor.fetchall()
    return _instances(db, model, rows, only)
