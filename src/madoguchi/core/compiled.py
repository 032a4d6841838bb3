"""Reads of one row by its key whose SQL the ORM compiles once per connection: `KeptRead`.

Every staff request reads three rows before its view runs: its session (by session key), its
user (by id) and its second factor's device (by id). Django builds each as a queryset, resolves
its filter and compiles it to SQL every time — about 0.3–0.5 ms of CPU a statement, some ten
times what sending it and making the model instance costs (0.05 ms). The statement is the same
every time but for the key, so a `KeptRead` asks the ORM for it once per connection — the very
text, columns and converters Django compiles for `Model.objects.filter(<key>=value)` — and
then only sends it with the new key. It goes through the connection's cursor as every query
does (execute wrappers, error translation, the debug query log) and returns the instance the
ORM would have made (`Model.from_db` with every concrete field, each value through the
converters the ORM's compiler applies).

Only for a unique column (a primary key or a unique field), compared for equality.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    connection: Any
    sql: str
    attnames: list[str]
    compiler: Any
    converters: dict[int, Any]


class KeptRead(Generic[M]):
    """`get(value)`: the `model` row whose unique `field` equals `value`, or None — as
    `model._default_manager.filter(<field>=value).first()` reads it, without compiling the
    statement again on a connection that has sent it before."""

    def __init__(self, model: type[M], field: str) -> None:
        model_field = model._meta.pk if field == "pk" else model._meta.get_field(field)
        if not isinstance(model_field, Field) or not (
            model_field.primary_key or model_field.unique
        ):
            raise ValueError(f"{model._meta.label}.{field} is not unique: one row per key only")
        self.model = model
        self.field = field
        self._key: Field[Any, Any] = model_field
        self._local = threading.local()  # connections are per thread: so is what is kept

    def get(self, value: Any) -> M | None:
        if value is None:  # the ORM would ask `IS NULL` of a unique key: no row is wanted
            return None
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        kept: dict[str, _Compiled] = self._local.__dict__.setdefault("by_alias", {})
        compiled = kept.get(alias)
        if compiled is None or compiled.connection is not connection:
            compiled = kept[alias] = self._compile(alias, connection, value)
        param = self._key.get_db_prep_value(value, connection, prepared=False)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [param])
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:
            (row,) = compiled.compiler.apply_converters([row], compiled.converters)
        return self.model.from_db(alias, compiled.attnames, row)

    def _compile(self, alias: str, connection: Any, value: Any) -> _Compiled:
        queryset = self.model._default_manager.db_manager(alias).filter(**{self.field: value})
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if len(params) != 1:
            raise ValueError(f"{sql!r}: one parameter, the key, expected; got {params!r}")
        select = [column for column, _sql, _alias in compiler.select]
        attnames = [column.target.attname for column in select]
        concrete = [field.attname for field in self.model._meta.concrete_fields]
        if attnames != concrete:
            raise ValueError(f"{sql!r} does not select {self.model._meta.label}'s fields")
        return _Compiled(connection, sql, attnames, compiler, compiler.get_converters(select))
