"""Signals about changes that no model signal reports.

`planning_inputs_changed` is sent by a service that writes planning inputs in bulk
(`bulk_create`, `bulk_update` and queryset updates send no `post_save`) — weekly application
counts, a temporary counter's counters and terminals — so the roll-up counts the change
(`forecasts.rollup_inputs`). Send it inside the writer's transaction.
"""

from __future__ import annotations

from django.dispatch import Signal

planning_inputs_changed = Signal()
