"""PostgreSQL: the application's role may use every table but cannot cut the audit log.

Migrations run as the owner role (it owns every table, the triggers and their function). The
application connects as another role (`MADOGUCHI_DB_APP_ROLE`) that after every `migrate` gets
(`grant_app_role`, from the `post_migrate` signal):
- SELECT, INSERT, UPDATE, DELETE on every other table, and the sequences;
- on `core_auditevent` only SELECT, INSERT and UPDATE of the seal columns (`seq`,
  `previous_hash`, `hash`) — the one update the triggers let through, once per row.
Not being the owner it cannot DISABLE TRIGGER, DROP TRIGGER, ALTER or TRUNCATE the table, and the
triggers refuse its DELETE and every other UPDATE (docs/audit.md; tests/core/test_db_roles.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections

AUDIT_TABLE = "core_auditevent"
SEAL_COLUMNS = ("seq", "previous_hash", "hash")


def grant_app_role(connection: Any, role: str) -> None:
    """Give `role` the application's rights on the current schema (idempotent)."""
    q = connection.ops.quote_name
    who = q(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise RuntimeError(
                f"MADOGUCHI_DB_APP_ROLE names the role {role!r}, which does not exist: "
                f"create it first (CREATE ROLE {role} LOGIN, docs/audit.md)"
            )
        tables = [t for t in connection.introspection.table_names(cursor) if t != AUDIT_TABLE]
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {who}")
        for table in tables:
            cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {q(table)} TO {who}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}")
        audit = q(AUDIT_TABLE)
        cursor.execute(f"REVOKE ALL ON {audit} FROM {who}")
        cursor.execute(f"GRANT SELECT, INSERT ON {audit} TO {who}")
        seal = ", ".join(q(c) for c in SEAL_COLUMNS)
        cursor.execute(f"GRANT UPDATE ({seal}) ON {audit} TO {who}")


def grant_after_migrate(using: str = "default", plan: Any = None, **kwargs: Any) -> None:
    """`post_migrate` receiver: when an application role is configured, grant it (PostgreSQL).

    Only after `migrate` (which sends its plan, empty or not): `flush` sends the signal too,
    and changes no table."""
    role = settings.MADOGUCHI_DB_APP_ROLE
    connection = connections[using]
    if role and plan is not None and connection.vendor == "postgresql":
        grant_app_role(connection, role)
