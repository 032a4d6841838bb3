"""Two managers apply the same backlog plan at the same instant (PostgreSQL, a thread and a
connection each): exactly one applies it, the other is told the plan changed and adds nothing.
The negative control leaves the municipality's row unheld: both find the plan the one shown and
both go on to apply it — the second adds the openings again or collides with the first's slots
(a crash) — proving the test can see a double apply at all."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from django.db import connections

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.forecasts import backlog_plan
from madoguchi.forecasts.backlog_plan import apply_backlog_plan, plan_digest, propose
from madoguchi.forecasts.selectors import backlog_view
from madoguchi.offices.models import SpecialOpening
from tests import live_worlds
from tests.forecasts.test_planning_pages import TODAY, _notified_cards
from tests.frozen_clock import DEMO_MORNING, frozen_at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONTROL_WAITS_AT_MOST_SECONDS = 240
"""In the control each apply waits for the other to have worked out the plan too; only a broken
control waits this long, and then fails saying so rather than applying alone."""


def _apply_together(municipality: Any, shown: str, *, unlocked: bool) -> list[str]:
    """Both applies released at once; each waits after working out the plan for the other to
    get as far — which, with the row held, the other cannot (then the wait is its bound, 2 s). In
    the control nothing holds the other back, so it waits for the other however long a loaded
    machine takes; a barrier broken there is a crash the control's assertion names."""
    start = threading.Barrier(2)
    planned = threading.Barrier(2)
    results: list[str] = []

    def wait_for_the_other(_municipality: Any) -> None:
        if unlocked:  # a broken barrier here fails the control: "crash BrokenBarrierError"
            planned.wait(timeout=CONTROL_WAITS_AT_MOST_SECONDS)
            return
        with contextlib.suppress(threading.BrokenBarrierError):  # the other waits for the row
            planned.wait(timeout=2)

    def run() -> None:
        try:
            start.wait(timeout=30)
            apply_backlog_plan(
                municipality,
                shown=shown,
                today=TODAY,
                actor=Actor.system("test"),
            )
            results.append("applied")
        except DomainError as error:
            results.append(error.code)
        except Exception as error:  # reported in the assertion, never swallowed
            results.append(f"crash {type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    with pytest.MonkeyPatch.context() as patch:  # the service's seams
        patch.setattr(backlog_plan, "planned", wait_for_the_other)
        patch.setattr(backlog_plan, "UNLOCKED_FOR_THE_NEGATIVE_CONTROL", unlocked)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=2 * CONTROL_WAITS_AT_MOST_SECONDS)
    return sorted(results)


def _breached_world() -> tuple[Any, str, int]:
    summary = live_worlds.demo_city(residents=200, seed=5, today=TODAY)
    _notified_cards(summary.municipality, 3000)
    view = backlog_view(summary.municipality, today=TODAY)
    result = propose(view)
    assert result.proposals, "the pile must call for openings"
    return (
        summary.municipality,
        plan_digest(view, result),
        sum(p.sessions for p in result.proposals),
    )


def test_two_managers_applying_the_same_plan_at_once_apply_it_once() -> None:
    with frozen_at(DEMO_MORNING, tick=True):
        municipality, shown, sessions = _breached_world()
        before = SpecialOpening.objects.count()
        outcomes = _apply_together(municipality, shown, unlocked=False)
        assert outcomes == ["applied", "plan_changed"]
        assert SpecialOpening.objects.count() - before <= sessions


def test_negative_control_without_the_row_held_both_apply() -> None:
    with frozen_at(DEMO_MORNING, tick=True):
        municipality, shown, _ = _breached_world()
        outcomes = _apply_together(municipality, shown, unlocked=True)
        assert "plan_changed" not in outcomes, outcomes
        assert outcomes[0] == "applied"
        assert outcomes[1] == "applied" or outcomes[1].startswith("crash IntegrityError"), outcomes
