"""What the offices tell the layers above them without importing them."""

from __future__ import annotations

from django.dispatch import Signal

calendar_changed = Signal()
"""Sent (keywords `site_ids`: a set of site ids, `actor`: a `core.audit.Actor`) inside the
transaction that changed these sites' calendars — a closure, weekly hours, a special opening,
the site itself. A receiver returns a list of the future slots left holding bookings the
calendar no longer supports (`reservations` makes the slots match the calendar at once: a day
just closed is no longer offered)."""

site_place_changed = Signal()
"""Sent (keywords `site`: the `Site` as saved, `languages`: the codes of `settings.LANGUAGES` in
which its place — name, postal code, address — now reads otherwise, `actor`) inside the
transaction of `offices.services.save_site` when the site's place changed in any language. A
receiver returns `(revised, told)`, how many bookings it revised and how many of them it told:
`reservations` raises the revision of every booking still to come there and tells those booked
in one of `languages` (decision 0044)."""
