"""Tests that want the same kept world run next to each other.

A kept world (tests/personas.py: `personas` or `signed_in_personas` at a moment, a module's
`DEMO_CITY`, a module's `DEMO_COMMAND` at a moment, the factories' `city` or `hall`) is built
once while consecutive tests ask for it and rolled back when a test wants another. Collected in
file order, the modules that want the same demo city (tests/forecasts, tests/demo, …) lie apart,
and each built it again.
This plugin (loaded by tests/conftest.py) moves every test that wants a world to the place of
the first test that wants the same one; every other test keeps its place and all keep their
relative order. It runs after pytest-django's own reordering (every test that rolls back,
then the transactional ones, then those without a database: `band`), and a group never
crosses a band, so that order still holds — a kept world's transaction is never open under a
transactional test. Under `--dist worksteal` each worker starts on its own contiguous share of
the list, so a world is built at most once per worker (and once more for a stolen tail).

`--world-order=collected` leaves the order as collected (to compare), `--world-order=reversed`
runs each band grouped and backwards (to show that no test depends on the one before it).
`--world-builds` prints how many worlds each process built and which.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("madoguchi")
    group.addoption(
        "--world-order",
        choices=("grouped", "collected", "reversed"),
        default="grouped",
        help="grouped (default): tests wanting the same kept world run next to each other; "
        "collected: as collected; reversed: grouped, each band run backwards",
    )
    group.addoption(
        "--world-builds",
        action="store_true",
        default=False,
        help="print how many kept worlds each process built",
    )


def band(item: pytest.Item) -> int:
    """pytest-django's order for `item` (pytest_django.plugin.pytest_collection_modifyitems):
    0 rolls back, 1 transactional, 2 no database. Test classes of Django's own kinds do not
    occur in this suite (tests/test_world_order.py checks)."""
    marker = item.get_closest_marker("django_db")
    names = set(getattr(item, "fixturenames", ()))
    transactional = bool(
        marker is not None
        and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    )
    if transactional or {"transactional_db", "live_server"} & names:
        return 1
    if marker is not None or "db" in names:
        return 0
    return 2


def _moment(item: pytest.Item) -> Hashable:
    """What the test's `now` will be, as far as collection can tell: under
    tests/frozen_clock.py's `now`, its `frozen_at` mark or the residents' Monday; under a
    `now` of a conftest or module, that fixture (and its parameter)."""
    from tests import frozen_clock

    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.get("now") if info is not None else None
    if not definitions or definitions[-1].func.__module__ == frozen_clock.__name__:
        marker = item.get_closest_marker("frozen_at")
        return marker.args[0] if marker is not None else frozen_clock.RESIDENTS_NOW
    callspec = getattr(item, "callspec", None)
    parameter = callspec.params.get("now") if callspec is not None else None
    return (definitions[-1].baseid, definitions[-1].func.__qualname__, _hashable(parameter))


def _hashable(value: Any) -> Hashable:
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return value  # type: ignore[no-any-return]


def world_key(item: pytest.Item) -> Hashable | None:
    """The kept world `item` will ask for (tests/personas.py, `wanted`), or None."""
    names = set(getattr(item, "fixturenames", ()))
    if band(item) != 0:
        return None
    module = getattr(item, "module", None)

    def declared(name: str) -> Hashable:
        return _hashable(getattr(module, name, None))

    if "personas" in names:
        return ("personas", _moment(item))
    if "signed_in_personas" in names:
        return (
            "signed_in_personas",
            _moment(item),
            declared("SIGNED_IN_AT"),
            declared("AFTER_SIGN_IN"),
        )
    if "demo_city" in names:
        return ("demo_city", declared("DEMO_CITY"))
    if names & set(getattr(module, "LEAVES_DEMO_CITY", ())):
        # a module fixture reads the module's kept demo city once, then rolls it back
        return ("leaves", ("demo_city", declared("DEMO_CITY")))
    if "demo_printed" in names:
        return ("demo_command", declared("DEMO_COMMAND"), _moment(item))
    from tests import personas

    kept = personas.factory_world(item)
    if kept is not None:
        return ("factory", kept)
    return None


def grouped(
    items: Sequence[T],
    key: Callable[[T], Hashable | None],
    band: Callable[[T], Hashable],
    *,
    reverse: bool = False,
    base: Callable[[Hashable], Hashable | None] = lambda _key: None,
    leaves: Callable[[Hashable], bool] = lambda _key: False,
) -> list[T]:
    """`items` with every item whose `key` is not None moved next to the first item of the
    same key and band; all others keep their places, and every item its order relative to the
    rest. A world built on another (`base` of its key: tests/personas.py, `Wanted.base`) has
    its group right after its base's, which takes the place of the first item of either — so
    the base is held while its derived world is built on top and rolled back to after it. A
    group whose key `leaves` its base (reads it, then rolls it back) comes after the base's
    other derived groups, which still need the base held. The bands' order is kept (a group
    never leaves its band); `reverse` turns each band around after grouping."""
    groups: dict[Hashable, list[T]] = {}
    derived: dict[Hashable, list[tuple[bool, list[T]]]] = {}
    slots: list[tuple[Hashable | None, list[T]]] = []
    for item in items:
        wanted = key(item)
        if wanted is None:
            slots.append((None, [item]))
            continue
        place = (band(item), wanted)
        if place not in groups:
            groups[place] = []
            under = base(wanted)
            if under is None:
                slots.append((place, groups[place]))
            else:
                base_place = (band(item), under)
                if base_place not in groups:
                    groups[base_place] = []
                    slots.append((base_place, groups[base_place]))
                derived.setdefault(base_place, []).append((leaves(wanted), groups[place]))
        groups[place].append(item)
    ordered = [
        item
        for place, slot in slots
        for group in (slot, *(g for _, g in sorted(derived.get(place, ()), key=lambda d: d[0])))
        for item in group
    ]
    if not reverse:
        return ordered
    result: list[T] = []
    start = 0
    for end in range(1, len(ordered) + 1):
        if end == len(ordered) or band(ordered[end]) != band(ordered[start]):
            result.extend(reversed(ordered[start:end]))
            start = end
    return result


def base_world(key: Hashable) -> Hashable | None:
    """The kept world `key`'s world is built on (tests/personas.py, `base_of`), or None."""
    from tests import personas

    return personas.base_of(key)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    order = config.getoption("world_order")
    if order == "collected":
        return
    items[:] = grouped(
        items,
        world_key,
        band,
        reverse=order == "reversed",
        base=base_world,
        leaves=lambda key: isinstance(key, tuple) and key[0] == "leaves",
    )


_reported: list[tuple[str, list[str]]] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests import personas

    keys = [repr(key) for key in personas.builds]
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["world_builds"] = keys
    elif not session.config.pluginmanager.has_plugin("dsession"):
        _reported.append(("this process", keys))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", None) or {}
    gateway = getattr(node, "gateway", None)
    worker = str(getattr(gateway, "id", "a worker"))
    _reported.append((worker, list(output.get("world_builds", []))))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.getoption("world_builds"):
        return
    reported = _reported
    total = sum(len(keys) for _, keys in reported)
    terminalreporter.section("kept worlds built")
    terminalreporter.write_line(f"{total} builds in {len(reported)} process(es)")
    for process, keys in sorted(reported):
        terminalreporter.write_line(f"{process}: {len(keys)}")
        for key, count in Counter(keys).most_common():
            terminalreporter.write_line(f"  {count} × {key[:150]}")
