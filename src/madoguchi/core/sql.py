"""Hand-written statements for the few hot paths, built from the models' own field metadata.

The ORM compiles every query anew, which on the booking path costs more than the database's
own work (bench/README.md "Booking rush"). These helpers write the same rows with one plain
statement each: column names, value preparation (`get_db_prep_save`) and result conversion come
from the model and the backend, so they stay right when a model changes. Use them only where a
benchmark shows the need; everything else goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

# Table and column names below come from model metadata, quoted by the backend; values always
# travel as parameters (hence the `noqa: S608`s). `where` strings are constants of the callers.

M = TypeVar("M", bound=models.Model)

# Statement texts and field lists are built once per model, column set and backend: quoting a
# name goes through the connection proxy, which costs more than the statement's own work here.
_statements: dict[tuple[Any, ...], tuple[str, list[Any]]] = {}


def _db() -> BaseDatabaseWrapper:
    return connections[DEFAULT_DB_ALIAS]


_PLAIN = (str, int, bool)


def _prep(db: BaseDatabaseWrapper, field: Any, value: Any) -> Any:
    if isinstance(value, models.Model):  # a related object given by name: store its key
        value = value.pk
    if (value is None or type(value) in _PLAIN) and not isinstance(field, models.JSONField):
        return value  # what get_db_prep_save would return for these, at a fraction of the cost
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
    """

    def __init__(self) -> None:
        self._db = _db()
        # (statement, parameters, the column it RETURNs or "")
        self._writes: list[tuple[str, list[Any], str]] = []

    def insert(self, model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> int:
        """Queue an INSERT of `rows`; returns the write's index (its new keys, from `run()`)."""
        sql, params = _insert(self._db, model, rows)  # ends in RETURNING the primary key
        self._writes.append((sql, params, self._db.ops.quote_name(str(model._meta.pk.column))))
        return len(self._writes) - 1

    def update(self, model: type[models.Model], pk: int, values: Mapping[str, Any]) -> None:
        """Queue an UPDATE of one row by primary key."""
        sql, params = _update(self._db, model, pk, values)
        self._writes.append((sql, params, ""))

    def execute(self, sql: str, params: Sequence[Any], *, returning: str = "") -> int:
        """Queue a hand-written INSERT/UPDATE; with `returning` (a column), `run()` gives the
        values of the rows it touched — e.g. the id of a slot whose seats were claimed."""
        if returning:
            sql = f"{sql} RETURNING {returning}"
        self._writes.append((sql, list(params), returning))
        return len(self._writes) - 1

    def run(self) -> list[list[int]]:
        """Send the writes; returns, per write, the keys it returned (sorted), else []."""
        results: list[list[int]] = [[] for _ in self._writes]
        if not self._writes:
            return results
        with self._db.cursor() as cursor:
            if self._db.vendor == "postgresql":
                parts = [f"w{i} AS ({sql})" for i, (sql, _, _) in enumerate(self._writes)]
                selects = [
                    f"SELECT {i}, {returning} FROM w{i}"  # noqa: S608
                    for i, (_, _, returning) in enumerate(self._writes)
                    if returning
                ] or ["SELECT NULL::int, NULL::bigint WHERE false"]
                statement = f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)}"
                cursor.execute(statement, [p for _, params, _ in self._writes for p in params])
                for index, value in cursor.fetchall():
                    results[index].append(int(value))
            else:
                for i, (sql, params, returning) in enumerate(self._writes):
                    cursor.execute(sql, params)
                    if returning:
                        results[i] = [int(row[0]) for row in cursor.fetchall()]
        return [sorted(r) for r in results]  # keys grow in VALUES order


def _reader(
    db: BaseDatabaseWrapper, model: type[models.Model]
) -> tuple[str, list[str], list[tuple[int, Any, list[Any]]]]:
    """The SELECT head, attribute names and per-column converters for reading `model` rows on
    this backend (what the ORM applies; e.g. SQLite returns datetimes as text)."""
    key = ("select", model, db.vendor)
    reader = _readers.get(key)
    if reader is None:
        q = db.ops.quote_name
        fields = list(model._meta.concrete_fields)
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


def select_rows(
    model: type[M], where: str, params: Sequence[Any], *, lock: bool = False
) -> list[M]:
    """Model instances for `SELECT … WHERE <where>` (columns converted as the ORM would),
    with `FOR UPDATE` when `lock` and the backend has it (SQLite's IMMEDIATE transactions
    already hold the database)."""
    db = _db()
    head, names, converters = _reader(db, model)
    sql = head + where
    if lock and db.features.has_select_for_update:
        sql += " FOR UPDATE"
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    instances = []
    for row in rows:
        values = list(row)
        for index, col, functions in converters:
            for convert in functions:
                values[index] = convert(values[index], col, db)
        instances.append(model.from_db(db.alias, names, values))
    return instances
