from typing import Any

from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    name = "madoguchi.reservations"
    label = "reservations"
    verbose_name = "予約"

    def ready(self) -> None:
        from madoguchi.offices.signals import calendar_changed

        calendar_changed.connect(_match_slots, dispatch_uid="reservations-match-slots")


def _match_slots(sender: Any, *, site_ids: set[int], actor: Any, **_: Any) -> list[Any]:
    from madoguchi.reservations.slots import match_slots_to_calendars

    return match_slots_to_calendars(site_ids, actor=actor)
