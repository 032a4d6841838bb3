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


def _prep(db: BaseDatabaseWrapper, field: Any, value: Any) -> Any:
    if isinstance(value, models.Model):  # a related object given by name: store its key
        value = value.pk
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


def insert_rows(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """INSERT `rows` (attribute name → value; all rows with the same keys) in one statement;
    returns the new primary keys in order."""
    db = _db()
    names = tuple(rows[0])
    sql, fields = _insert_statement(db, model, names, len(rows))
    params = [
        _prep(db, f, row[name]) for row in rows for name, f in zip(names, fields, strict=True)
    ]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [int(row[0]) for row in cursor.fetchall()]
    return ids  # RETURNING lists the rows in VALUES order on PostgreSQL and SQLite


def update_row(model: type[models.Model], pk: int, values: Mapping[str, Any]) -> int:
    """UPDATE one row by primary key; returns the number of rows changed (0 or 1)."""
    db = _db()
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
    with db.cursor() as cursor:
        cursor.execute(sql, [*params, pk])
        return int(cursor.rowcount)


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
