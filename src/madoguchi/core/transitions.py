"""Explicit transition tables for statuses (house rule 6: nobody assigns `.status` directly)."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from madoguchi.core.errors import DomainError

TransitionTable = Mapping[str, frozenset[str]]


def check_transition(
    table: TransitionTable,
    current: str,
    target: str,
    *,
    what: str,
    labels: Mapping[str, str | Promise],
) -> None:
    """Raise DomainError (409 `invalid_transition`) unless `table` allows current → target.

    The message names both states by their `labels` (the status choices' labels, translated
    when shown: a resident reads 「取消」, never `cancelled`); a state without a label is not named
    at all.
    """
    if target not in table.get(current, frozenset()):
        if current in labels and target in labels:
            message = _("%(what)sは「%(current)s」のため、「%(target)s」にはできません。") % {
                "what": _(what),
                "current": labels[current],
                "target": labels[target],
            }
        else:
            message = _("%(what)sは今の状態では、この操作ができません。") % {"what": _(what)}
        raise DomainError("invalid_transition", message, status=409)


def table(**edges: set[str] | frozenset[str]) -> dict[str, frozenset[str]]:
    """Build a transition table: table(booked={"checked_in", "cancelled"}, …)."""
    return {state: frozenset(targets) for state, targets in edges.items()}
