"""Results kept in the database with the digest of what they were built from — the planning
dashboard's figures (`dashboard_cache`), the solved staffing plans (`staffing_cache`), the
roll-up's reports (`report_cache`) and the roll-up itself (`rollup.kept_rollup`) — read, kept and
computed again the same way.

A pickled result carries the version of the code that wrote it (`pickled`); reading it back
(`unpickled`) gives None — compute it again — when it does not unpickle (kept under other
libraries or another layout), was written by another version, or is not of the kind asked for.
`keep` writes a row, replacing the previous one for the same key; two requests keeping the same
row at the same moment are both right, so the loser's IntegrityError is not an error.
`kept_or_built` is the whole round for a `PickledResult` kept under the digest of its inputs:
the kept value when the digest matches and it reads back, else built now and kept.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

from madoguchi.core import clock
from madoguchi.core.code_version import code_digest

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


def kept_or_built(
    model: type[models.Model],
    *,
    digest: str,
    kind: type[T],
    build: Callable[[], T],
    **key: Any,
) -> tuple[T, bool]:
    """The value kept in `model`'s row of `key` when it was built from inputs of `digest` by this
    code and reads back as a `kind`; else `build()`'s, kept in that row. The second item says
    whether it was built now."""
    row = model._default_manager.filter(**key).values_list("inputs_digest", "payload").first()
    if row is not None and row[0] == digest:
        value = unpickled(row[1], kind=kind, version=code_digest())
        if value is not None:
            return value, False
    started = time.perf_counter()
    value = build()
    keep(
        model,
        defaults={
            "inputs_digest": digest,
            "built_at": clock.now(),
            "build_seconds": time.perf_counter() - started,
            "payload": pickled(value, version=code_digest()),
        },
        **key,
    )
    return value, True
