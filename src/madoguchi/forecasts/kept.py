"""Results kept in the database with the digest of what they were built from — the planning
dashboard's figures (`dashboard_cache`), the solved staffing plans (`staffing_cache`), the
roll-up's reports (`report_cache`) and the roll-up itself (`rollup.kept_rollup`) — read, kept and
computed again the same way.

A pickled result carries the version of the code that wrote it (`pickled`); reading it back
(`unpickled`) gives None — compute it again — when it does not unpickle (kept under other
libraries or another layout), was written by another version, or is not of the kind asked for.
`keep` writes a row, replacing the previous one for the same key; two requests keeping the same
row at the same moment are both right, so the loser's IntegrityError is not an error.
"""

from __future__ import annotations

import pickle
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)


def pickled(value: object, *, version: object) -> bytes:
    """`value` with the code version that computed it, for a `PickledResult.payload`."""
    return pickle.dumps((version, value), protocol=pickle.HIGHEST_PROTOCOL)


def unpickled(payload: bytes | memoryview, *, kind: type[T], version: object) -> T | None:
    """The value `pickled` kept, or None when it is to be computed again."""
    try:
        kept = pickle.loads(bytes(payload))  # noqa: S301 — written only by `pickled`
    except Exception:  # pickled under other libraries (an upgrade) or not a pickle at all
        return None
    if not isinstance(kept, tuple) or len(kept) != 2 or kept[0] != version:
        return None
    value = kept[1]
    return value if isinstance(value, kind) else None


def keep(model: type[M], *, defaults: dict[str, Any], **key: Any) -> M:
    """Write the row of `key` with `defaults` (replacing the kept one) and return it; when another
    request kept the same row at the same moment, that row (it is as good)."""
    manager = model._default_manager
    try:
        with transaction.atomic():
            row, _ = manager.update_or_create(defaults=defaults, **key)
    except IntegrityError:
        return manager.get(**key)
    return row
