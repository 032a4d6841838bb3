"""Explicit transition tables for statuses (house rule 6: nobody assigns `.status` directly)."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _

from madoguchi.core.errors import DomainError

TransitionTable = Mapping[str, frozenset[str]]


def check_transition(table: TransitionTable, current: str, target: str, *, what: str) -> None:
    """Raise DomainError (409 `invalid_transition`) unless `table` allows current → target."""
    if target not in table.get(current, frozenset()):
        raise DomainError(
            "invalid_transition",
            _("%(what)sの状態を「%(current)s」から「%(target)s」に変えることはできません。")
            % {"what": _(what), "current": current, "target": target},
            status=409,
        )


def table(**edges: set[str] | frozenset[str]) -> dict[str, frozenset[str]]:
    """Build a transition table: table(booked={"checked_in", "cancelled"}, …)."""
    return {state: frozenset(targets) for state, targets in edges.items()}
