"""The booked counter day the counter-day browser tests walk: one town, queue prefixes A (card
pick-up) and B (certificate renewal), a pick-up booked at 10:00 that nobody comes to, a
certificate renewal booked at a given time, an official of the site — and a ticking clock
standing at a given time on VISIT_DAY."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from madoguchi.core import clock
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import QueuePrefix
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import VISIT_DAY


@contextmanager
def booked_day(renewal_at: str, clock_at: dt.time) -> Iterator[dict[str, Any]]:
    """Booked on June 1st (the factories' NOW): the pick-up at 10:00 and the renewal at
    `renewal_at` on VISIT_DAY, the official "official" (password "pw-for-tests") of the site;
    then the clock (ticking) stands at `clock_at` on VISIT_DAY. Yields the city, both bookings
    and the traveller that moves the clock."""
    with frozen_at(factories.NOW, tick=True) as traveller:
        city = factories.city()
        QueuePrefix.objects.create(site=city.site, procedure=city.pickup, prefix="A")
        QueuePrefix.objects.create(site=city.site, procedure=city.renewal, prefix="B")
        pickup = factories.book_card_pickup(city, "10:00", n=0)
        renewal = factories.book_cert_renewal(city, renewal_at)
        user = StaffUser.objects.create_user(
            "official", password="pw-for-tests", role=Role.OFFICIAL, municipality=city.municipality
        )
        user.sites.set([city.site])
        traveller.move_to(clock.at(VISIT_DAY, clock_at))
        yield {"city": city, "pickup": pickup, "renewal": renewal, "traveller": traveller}
