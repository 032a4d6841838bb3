"""ORM reads that run on every request of a rush, as server-side prepared statements.

A rush's residents' flow reads one slot's seats live before each confirmation (decision 0027).
Sent as Django sends every query — text with its values written in (psycopg's client-side
binding) — PostgreSQL parses, analyses and plans that primary-key read afresh each time, which
costs it about twice the read itself. `prepared_rows` runs the same ORM query as a prepared
statement of the connection instead: parsed and planned once per connection (Django keeps
connections for CONN_MAX_AGE), then only bound and executed. The query stays the ORM's — its
text compiled by Django, its values sent apart — and goes through Django's cursor wrapper, so
execute wrappers and error translation see it as any other query, and it is logged as
Django's debug cursor logs one (with its values written in).

Only where it pays: a statement with a fixed text run many times per connection. Django leaves
prepared statements off (`prepare_threshold=None`) for connection poolers that do not keep
sessions (PgBouncer in transaction mode); such a deployment sets
MADOGUCHI_PREPARED_READS=0 and these reads go as plain queries.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

logger = logging.getLogger("django.db.backends")

NOT_BY_ITSELF = 1 << 30
"""The connection's threshold for preparing a statement after so many runs (psycopg): off for
everything else in practice — only `prepared_rows` asks for preparation explicitly."""


def prepared_rows(query: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows of `query` — a `values_list` of plain columns (no database converters are
    applied) — read as a prepared statement on PostgreSQL; as the ORM reads them elsewhere."""
    if connection.vendor != "postgresql" or not settings.MADOGUCHI_PREPARED_READS:
        return [tuple(row) for row in query]
    sql, params = query.query.get_compiler(using=query.db).as_sql()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    if raw.prepare_threshold is None:  # Django's default: nothing is prepared
        raw.prepare_threshold = NOT_BY_ITSELF
    started = time.monotonic()
    with connection.make_cursor(_preparing()(raw)) as cursor:  # Django's errors, execute wrappers
        cursor.execute(sql, params)
        rows = [tuple(row) for row in cursor.fetchall()]
    if connection.queries_logged:  # as Django's debug cursor logs a query, with its values
        text = connection.ops.compose_sql(sql, params)  # type: ignore[attr-defined]  # psycopg's
        duration = time.monotonic() - started
        connection.queries_log.append({"sql": text, "time": f"{duration:.3f}"})
        logger.debug("(%.3f) %s; args=%s (prepared)", duration, text, params)
    return rows


@functools.cache
def _preparing() -> type[Any]:
    import psycopg  # PostgreSQL deployments only

    class Preparing(psycopg.Cursor[Any]):
        """Server-side binding, each statement prepared on its first run on the connection."""

        def execute(self, query: Any, params: Any = None, **_: Any) -> Any:
            return super().execute(query, params, prepare=True)

    return Preparing
