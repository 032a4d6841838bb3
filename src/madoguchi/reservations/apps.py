from typing import Any

from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    name = "madoguchi.reservations"
    label = "reservations"
    verbose_name = "予約"

    def ready(self) -> None:
        from madoguchi.offices.signals import calendar_changed, site_place_changed

        calendar_changed.connect(_match_slots, dispatch_uid="reservations-match-slots")
        site_place_changed.connect(_revise_for_new_place, dispatch_uid="reservations-new-place")


def _match_slots(sender: Any, *, site_ids: set[int], actor: Any, **_: Any) -> list[Any]:
    from madoguchi.reservations.slots import match_slots_to_calendars

    return match_slots_to_calendars(site_ids, actor=actor)


def _revise_for_new_place(
    sender: Any, *, site: Any, languages: Any, actor: Any, **_: Any
) -> tuple[int, int]:
    from madoguchi.reservations.services import revise_for_new_place

    return revise_for_new_place(site=site, languages=languages, actor=actor)
