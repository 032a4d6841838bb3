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

from django.db import connection, models

# Table and column names below come from model metadata, quoted by the backend; values always
# travel as parameters (hence the `noqa: S608`s). `where` strings are constants of the callers.

M = TypeVar("M", bound=models.Model)


def _q(name: str | None) -> str:
    return connection.ops.quote_name(str(name))


def _prep(field: Any, value: Any) -> Any:
    if isinstance(value, models.Model):  # a related object given by name: store its key
        value = value.pk
    return field.get_db_prep_save(value, connection)


def insert_rows(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """INSERT `rows` (attribute name → value; all rows with the same keys) in one statement;
    returns the new primary keys in order."""
    names = list(rows[0])
    fields: list[Any] = [model._meta.get_field(name) for name in names]
    columns = ", ".join(_q(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [_prep(f, row[name]) for row in rows for name, f in zip(names, fields, strict=True)]
    pk = _q(model._meta.pk.column)
    values = ", ".join([one] * len(rows))
    sql = f"INSERT INTO {_q(model._meta.db_table)} ({columns}) VALUES {values} RETURNING {pk}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [int(row[0]) for row in cursor.fetchall()]
    return ids  # RETURNING lists the rows in VALUES order on PostgreSQL and SQLite


def update_row(model: type[models.Model], pk: int, values: Mapping[str, Any]) -> int:
    """UPDATE one row by primary key; returns the number of rows changed (0 or 1)."""
    fields: list[Any] = [model._meta.get_field(name) for name in values]
    assignments = ", ".join(f"{_q(f.column)} = %s" for f in fields)
    params = [_prep(f, value) for f, value in zip(fields, values.values(), strict=True)]
    pk_column = _q(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_q(model._meta.db_table)} SET {assignments} WHERE {pk_column} = %s",  # noqa: S608
            [*params, pk],
        )
        return int(cursor.rowcount)


def _reader(model: type[models.Model]) -> tuple[str, list[str], list[tuple[int, Any, list[Any]]]]:
    """The column list, attribute names and per-column converters for reading `model` rows on
    this connection (what the ORM applies; e.g. SQLite returns datetimes as text)."""
    key = (model, connection.vendor)
    reader = _readers.get(key)
    if reader is None:
        fields = list(model._meta.concrete_fields)
        converters = []
        for index, field in enumerate(fields):
            col = field.cached_col
            found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            if found:
                converters.append((index, col, found))
        columns = ", ".join(_q(f.column) for f in fields)
        reader = _readers[key] = (columns, [f.attname for f in fields], converters)
    return reader


_readers: dict[tuple[type[models.Model], str], Any] = {}


def select_rows(
    model: type[M], where: str, params: Sequence[Any], *, lock: bool = False
) -> list[M]:
    """Model instances for `SELECT … WHERE <where>` (columns converted as the ORM would),
    with `FOR UPDATE` when `lock` and the backend has it (SQLite's IMMEDIATE transactions
    already hold the database)."""
    columns, names, converters = _reader(model)
    sql = f"SELECT {columns} FROM {_q(model._meta.db_table)} WHERE {where}"  # noqa: S608
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    instances = []
    for row in rows:
        values = list(row)
        for index, col, functions in converters:
            for convert in functions:
                values[index] = convert(values[index], col, connection)
        instances.append(model.from_db(connection.alias, names, values))
    return instances
