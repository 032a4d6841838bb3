"""The roll-up's count of changes is taken after the writer's transaction commits, so a long
transaction that changed an input (a register import takes seconds) holds nobody else's write
back (PostgreSQL, a thread and a connection each). The negative control counts inside the
transaction, as a plain UPDATE of the counted row would: the second writer then waits on the
first's row lock until its lock timeout — proving the test can see the wait at all."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import OperationalError, connection, connections, transaction

from madoguchi.forecasts import rollup_inputs
from madoguchi.offices.models import Counter
from tests.offices import factories as offices

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HELD_AT_MOST_SECONDS = 60
"""How long the first writer keeps its transaction open at most (it is let go as soon as the
second has finished; only a broken test waits this long)."""


def _second_write_while_the_first_is_open(count_inside: bool) -> tuple[str, int]:
    """The first writer adds a counter and keeps its transaction open; meanwhile the second adds
    a counter in another municipality with a 3 s lock timeout. What the second saw, and how
    many changes were counted once both were done."""
    first_site = offices.site(offices.municipality(code="131041", name="基準区"))
    second_site = offices.site(offices.municipality(code="999997", name="あおば町"))
    rollup_inputs.count_change()  # the counted row exists before either writes
    before = rollup_inputs.changes() or 0
    written, done = threading.Event(), threading.Event()
    errors: list[str] = []

    def first() -> None:
        try:
            with transaction.atomic():
                Counter.objects.create(site=first_site, name="長い取込み")
                written.set()
                done.wait(timeout=HELD_AT_MOST_SECONDS)
        except Exception as error:  # reported in the assertion, never swallowed
            errors.append(f"first: {type(error).__name__}: {error}")
        finally:
            written.set()
            connections.close_all()

    def second() -> str:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                Counter.objects.create(site=second_site, name="設定の変更")
            return "committed"
        except OperationalError:
            return "waited for the first"

    seam: Callable[[Callable[[], None]], None] = (
        (lambda count: count()) if count_inside else rollup_inputs.after_commit
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rollup_inputs, "after_commit", seam)
        thread = threading.Thread(target=first)
        thread.start()
        assert written.wait(timeout=HELD_AT_MOST_SECONDS)
        outcome = second()
        done.set()
        thread.join(timeout=HELD_AT_MOST_SECONDS)
    assert errors == []
    return outcome, (rollup_inputs.changes() or 0) - before


def test_a_long_transaction_that_changed_an_input_holds_no_other_write_back() -> None:
    assert _second_write_while_the_first_is_open(count_inside=False) == ("committed", 2)


def test_negative_control_counting_inside_the_transaction_makes_the_second_writer_wait() -> None:
    outcome, counted = _second_write_while_the_first_is_open(count_inside=True)
    assert outcome == "waited for the first"
    assert counted == 1  # the first's change; the second rolled back with its count
