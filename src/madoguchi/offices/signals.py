"""What the offices tell the layers above them without importing them."""

from __future__ import annotations

from django.dispatch import Signal

calendar_changed = Signal()
"""Sent (keywords `site_ids`: a set of site ids, `actor`: a `core.audit.Actor`) inside the
transaction that changed these sites' calendars — a closure, weekly hours, a special opening,
the site itself. A receiver returns a list of the future slots left holding bookings the
calendar no longer supports (`reservations` makes the slots match the calendar at once: a day
just closed is no longer offered)."""
