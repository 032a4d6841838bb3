"""The count of changes to the roll-up's inputs that are not bookings.

The roll-up (`rollup.kept_rollup`) is built from every local municipality's report, and a
report from that municipality's settings, sites, counters, calendars, register, application
counts and contractors — written rarely, by a clerk or an import — and from its cards and slots,
written by every booking, notice and hand-over. Taking every municipality's report input digest
on each view grows with the municipalities and their cards; a write to a shared row on every
booking would make every booking wait on the others.

So the writes that are not bookings count themselves here (`RollupInputsChanges`, one row): a
save or delete of the models in `WATCHED` (and of a contractor's account), a change to what a
site or a counter offers, and `core.changes.planning_inputs_changed`, which the services that
write such rows in bulk send. The count goes up after the write's transaction commits
(`transaction.on_commit`), in a statement of its own: no transaction holds the row while it
does other work, and a view that reads the new count reads the committed change. It goes up
once per transaction, however many watched rows it saved (an import of a thousand rows is one
UPDATE, not a thousand): the connection keeps the count it has asked for (`PendingCount`) until
that runs or is dropped with a rollback. A view whose
count, day, code and imported reports are as the kept roll-up's reads it; the cards and slots
reach it through the municipalities' digests, taken at most `rollup.FIGURES_MAX_AGE` apart —
the bound the page states. A count lost (the process stopped between the commit and the count)
is caught by that same bound.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from madoguchi.core.changes import planning_inputs_changed
from madoguchi.forecasts.models import (
    PlanningPolicy,
    RegisterSnapshot,
    RollupInputsChanges,
    TemporaryCounterOption,
)
from madoguchi.issuance.models import ApplicationCount
from madoguchi.offices.models import (
    Closure,
    Counter,
    Municipality,
    OpeningSession,
    Procedure,
    Site,
    SpecialOpening,
    Terminal,
)
from madoguchi.staff.models import Role, StaffUser

SCOPE = "deployment"
WATCHED: tuple[type[Model], ...] = (
    Municipality,
    PlanningPolicy,
    TemporaryCounterOption,
    RegisterSnapshot,
    ApplicationCount,
    Site,
    Counter,
    Terminal,
    OpeningSession,
    SpecialOpening,
    Closure,
    Procedure,
)
ACCOUNT_FIELDS = frozenset({"role", "is_active", "municipality", "municipality_id"})
"""A staff account's fields a report reads (it counts the active contractors)."""


def changes() -> int | None:
    """The count now (None before the first change)."""
    return RollupInputsChanges.objects.filter(scope=SCOPE).values_list("count", flat=True).first()


def count_change() -> None:
    """Count one change now (outside the writer's transaction: `changed` defers it)."""
    if RollupInputsChanges.objects.filter(scope=SCOPE).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            RollupInputsChanges.objects.create(scope=SCOPE, count=1)
    except IntegrityError:  # another request created it at the same moment
        RollupInputsChanges.objects.filter(scope=SCOPE).update(count=F("count") + 1)


def after_commit(count: Callable[[], None]) -> None:
    """Run `count` once the writer's transaction commits (at once outside one); a module-level
    seam the concurrency test's control replaces with counting inside the transaction."""
    transaction.on_commit(count, robust=True)


class PendingCount:
    """One count asked for after a transaction's commit; the connection keeps it (`_PENDING`)
    so that later changes in the same transaction ask for no other."""

    def __init__(self) -> None:
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        count_change()

    def is_pending_on(self, connection: BaseDatabaseWrapper) -> bool:
        """Not run yet, and still to run at the commit: a rollback drops it from the
        connection's commit hooks — of the whole transaction, or of the savepoint it was asked
        for in, whose changes are gone with it — and the next change asks again."""
        return not self.ran and any(hook[1] is self for hook in connection.run_on_commit)


_PENDING = "_madoguchi_rollup_count"
"""The connection's attribute holding its `PendingCount`."""


def changed(using: str | None = None, **_: Any) -> None:
    """A signal's receiver: count the change once the writer's transaction commits — once
    for the transaction, however many changes it makes."""
    connection = transaction.get_connection(using)
    pending: PendingCount | None = getattr(connection, _PENDING, None)
    if pending is not None and pending.is_pending_on(connection):
        return
    pending = PendingCount()
    setattr(connection, _PENDING, pending)
    after_commit(pending)


def account_changed(instance: StaffUser, update_fields: Any = None, **kwargs: Any) -> None:
    """A staff account saved: counted when a field a report reads may have changed (not a
    sign-in, which saves ``last_login`` alone)."""
    if update_fields is not None and not ACCOUNT_FIELDS & set(update_fields):
        return
    changed(**kwargs)


def account_deleted(instance: StaffUser, **kwargs: Any) -> None:
    if instance.role == Role.CONTRACTOR:
        changed(**kwargs)


def connect() -> None:
    for model in WATCHED:
        post_save.connect(changed, sender=model, dispatch_uid=f"rollup-save-{model.__name__}")
        post_delete.connect(changed, sender=model, dispatch_uid=f"rollup-del-{model.__name__}")
    for through in (Site.procedures.through, Counter.procedures.through):
        m2m_changed.connect(changed, sender=through, dispatch_uid=f"rollup-m2m-{through.__name__}")
    post_save.connect(account_changed, sender=StaffUser, dispatch_uid="rollup-save-account")
    post_delete.connect(account_deleted, sender=StaffUser, dispatch_uid="rollup-del-account")
    planning_inputs_changed.connect(changed, dispatch_uid="rollup-bulk")
