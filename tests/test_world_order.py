"""tests/world_order.py: tests that want the same kept world run next to each other, and
pytest-django's order (rolling back, then transactional, then no database) still holds."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import pytest

from tests import world_order

# (name, band, world) — the bands as pytest-django left them, worlds scattered among them.
COLLECTED = [
    ("a", 0, "city-150"),
    ("b", 0, None),
    ("c", 0, "city-400"),
    ("d", 0, "city-150"),
    ("e", 0, None),
    ("f", 0, "city-400"),
    ("g", 0, "city-150"),
    ("h", 1, None),
    ("i", 1, "city-150"),  # a world key in another band stays in its band
    ("j", 2, None),
]


def _names(items: Sequence[tuple[str, int, Any]]) -> str:
    return "".join(item[0] for item in items)


def _key(item: tuple[str, int, Any]) -> Hashable | None:
    world: Hashable | None = item[2]
    return world


def _band(item: tuple[str, int, Any]) -> int:
    return item[1]


def test_tests_of_one_world_come_out_adjacent_at_the_first_ones_place() -> None:
    ordered = world_order.grouped(COLLECTED, _key, _band)

    assert _names(ordered) == "adgbcfehij"
    assert sorted(ordered) == sorted(COLLECTED)


def test_the_rest_keep_their_relative_order_and_the_bands_theirs() -> None:
    ordered = world_order.grouped(COLLECTED, _key, _band)

    unkeyed = [item for item in ordered if item[2] is None]
    assert unkeyed == [item for item in COLLECTED if item[2] is None]
    assert [item[1] for item in ordered] == sorted(item[1] for item in ordered)


def test_reversed_keeps_the_groups_and_the_bands_but_turns_each_band_around() -> None:
    ordered = world_order.grouped(COLLECTED, _key, _band, reverse=True)

    assert _names(ordered) == "efcbgdaihj"
    assert [item[1] for item in ordered] == sorted(item[1] for item in ordered)


def _runs(keys: list[Hashable]) -> dict[Hashable, int]:
    runs: dict[Hashable, int] = {}
    previous: Hashable | None = None
    for key in keys:
        if key is not None and key != previous:
            runs[key] = runs.get(key, 0) + 1
        previous = key
    return runs


def test_this_session_runs_each_world_in_one_stretch_after_pytest_django_ordered_it(
    request: pytest.FixtureRequest,
) -> None:
    """This session's own order, as every worker collected it: pytest-django's bands never
    decrease (so no kept world is open under a transactional test), and every world's tests
    form one stretch unless the run asked for the collected order."""
    from django.test import TransactionTestCase

    items = request.session.items
    classes = {getattr(item, "cls", None) for item in items} - {None}
    assert not [cls for cls in classes if issubclass(cls, TransactionTestCase)]
    bands = [world_order.band(item) for item in items]
    assert bands == sorted(bands)
    if request.config.getoption("world_order") == "collected":
        return
    runs = _runs([world_order.world_key(item) for item in items])
    assert {key: count for key, count in runs.items() if count > 1} == {}


# (name, band, world) — "roomy-400" is built on "city-400" (`base`): its tests follow the base's.
WITH_DERIVED = [
    ("a", 0, "city-150"),
    ("b", 0, "roomy-400"),
    ("c", 0, None),
    ("d", 0, "city-400"),
    ("e", 0, "roomy-400"),
    ("f", 0, "city-400"),
    ("g", 0, "city-150"),
    ("h", 1, "roomy-400"),  # another band: grouped in its own
]


def _base(key: Hashable) -> Hashable | None:
    return "city-400" if key == "roomy-400" else None


def test_a_world_built_on_another_comes_right_after_its_base_at_the_first_ones_place() -> None:
    ordered = world_order.grouped(WITH_DERIVED, _key, _band, base=_base)

    assert _names(ordered) == "agdfbech"
    assert sorted(ordered) == sorted(WITH_DERIVED)
    assert _names(world_order.grouped(WITH_DERIVED, _key, _band, base=_base, reverse=True)) == (
        "cebfdgah"
    )


# "leaves-400" reads "city-400" once and rolls it back (a module's `LEAVES_DEMO_CITY`): its
# tests follow the base's other derived groups, which still need the base held.
WITH_LEAVING = [
    ("a", 0, None),
    ("b", 0, "leaves-400"),
    ("c", 0, "city-400"),
    ("d", 0, None),
    ("e", 0, "roomy-400"),
    ("f", 0, "leaves-400"),
]


def test_a_group_that_leaves_its_base_comes_after_the_bases_other_derived_groups() -> None:
    def base(key: Hashable) -> Hashable | None:
        return "city-400" if key in ("roomy-400", "leaves-400") else None

    def leaves(key: Hashable) -> bool:
        return key == "leaves-400"

    ordered = world_order.grouped(WITH_LEAVING, _key, _band, base=base, leaves=leaves)
    assert _names(ordered) == "acebfd"
    assert _names(world_order.grouped(WITH_LEAVING, _key, _band, base=base)) == "acbfed"


def test_a_roomy_demo_city_is_built_on_the_plain_one_of_its_size_and_seed() -> None:
    from tests import personas

    roomy = personas.DemoCity(residents=400, seed=3, roomy=True)
    assert world_order.base_world(("demo_city", roomy)) == (
        "demo_city",
        personas.DemoCity(residents=400, seed=3),
    )
    assert world_order.base_world(("demo_city", personas.DemoCity(residents=400, seed=3))) is None


@pytest.mark.django_db
def test_a_world_on_a_base_is_built_on_it_and_rolled_back_to_it(
    django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`personas.hold`: the derived world is built on the held base (the base is not built
    again), a test wanting the base after it gets the base's rows alone (the derived world's
    rolled back, the base not built again), and `release` leaves nothing of either."""
    import datetime as dt

    from madoguchi.offices.models import Municipality
    from tests import personas
    from tests.offices import factories

    monkeypatch.setattr(personas, "builds", [])  # this test's builds are not the run's
    built: list[str] = []

    def base_build() -> str:
        built.append("base")
        return factories.municipality(code="131016", name="基").name

    def on_base(name: str) -> str:
        built.append("derived")
        factories.municipality(code="131024", name="上")
        return name + "+上"

    moment = dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.UTC)
    base = personas.Wanted(("test base",), moment, base_build)
    derived = personas.Wanted(("test derived",), moment, on_base, base=base)

    def names() -> list[str]:
        return sorted(Municipality.objects.values_list("name", flat=True))

    try:
        assert personas.hold(derived, django_db_blocker) == "基+上"
        assert names() == ["上", "基"] and built == ["base", "derived"]
        assert personas.hold(derived, django_db_blocker) == "基+上"  # kept
        assert personas.hold(base, django_db_blocker) == "基"
        assert names() == ["基"] and built == ["base", "derived"]
        assert personas.hold(derived, django_db_blocker) == "基+上"  # built again on the base
        assert names() == ["上", "基"] and built == ["base", "derived", "derived"]
    finally:
        personas.release(django_db_blocker)
    assert names() == []
