"""Queue helpers shared by tests outside walkins/."""

from __future__ import annotations

from madoguchi.core.audit import Actor
from madoguchi.offices.models import Counter, Site
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.services import call_next_ticket


def call_to_a_counter(site: Site) -> QueueTicket:
    """Call the next visitor of `site` (a checked-in booked visitor comes first) to a free
    counter with a card terminal, made when the site has none free."""
    counter = (
        Counter.objects.filter(site=site, is_active=True, has_terminal=True)
        .exclude(queue_tickets__status__in=("called", "serving"))
        .order_by("pk")
        .first()
    ) or Counter.objects.create(site=site, name="テスト窓口", has_terminal=True)
    called = call_next_ticket(site=site, counter=counter, actor=Actor.system("test"))
    assert called is not None, "nobody was waiting"
    return called


def kiosk_cookie(site: Site, name: str = "正面入口") -> str:
    """The signed cookie of a tablet registered and activated as `site`'s kiosk."""
    from madoguchi.walkins.kiosks import activate_kiosk, register_kiosk

    _device, token = register_kiosk(site=site, name=name, actor=Actor("staff:1:manager"))
    _device, cookie = activate_kiosk(token=token, actor=Actor.resident("kiosk-activation"))
    return cookie
