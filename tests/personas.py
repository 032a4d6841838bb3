"""The staff side's test personas: three municipalities — the home one with two sites, two
others with one site each — with staff in every role in each, and accounts that must see nothing.

`world()` builds them (fixture `personas` in tests/conftest.py). Names and passwords are
fixed so browser tests can sign in as a persona too.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import pytest

from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import SUITE_SETTINGS
from tests.frozen_clock import BOOKINGS_NOW, RESIDENTS_NOW
from tests.offices import factories as offices

PASSWORD = "persona-pw-for-tests"
HOME_CODE = "131041"
HOME_NAME = "みどり市"
"""The home municipality: the staff personas' and every factory's (tests/offices/factories.py,
tests/issuance/factories.py, the residents' `city` in tests/resident_site/factories.py)."""
FOREIGN_CODE = "999997"
FOREIGN_NAME = "あおば町"
"""The second municipality: its own site and staff, that the home staff must never see."""
THIRD_CODE = "203009"
THIRD_NAME = "さくら村"
"""The third municipality: its own site and staff; no municipality's staff see another's."""
MUNICIPALITIES = ("home", "foreign", "third")

T = TypeVar("T")


@dataclass(frozen=True)
class Persona:
    """Who signs in: a role, a municipality ("home", "foreign", "third" or None) and assigned
    sites."""

    name: str
    role: str
    municipality: str | None
    sites: tuple[str, ...] = ()
    superuser: bool = False


PERSONAS = (
    Persona("official_a", Role.OFFICIAL, "home", ("a",)),
    Persona("contractor_a", Role.CONTRACTOR, "home", ("a",)),
    Persona("manager", Role.MANAGER, "home"),
    Persona("auditor", Role.AUDITOR, "home"),
    Persona("administrator", Role.ADMINISTRATOR, "home"),
    # The roll-up's statistics staff: the roll-up only, nothing of any municipality's residents.
    Persona("rollup", Role.ROLLUP, "home"),
    # A superuser is an administrator of its own municipality only, whatever its role says.
    Persona("superuser", Role.OFFICIAL, "home", superuser=True),
    # Accounts without a municipality see nothing, even when sites are assigned to them.
    Persona("superuser_nowhere", Role.ADMINISTRATOR, None, ("a",), superuser=True),
    Persona("manager_nowhere", Role.MANAGER, None, ("a",)),
    # The second municipality's staff in every role; the official is (wrongly) also assigned
    # site A, the contractor site D: an assignment never reaches past the own municipality.
    Persona("foreign_official", Role.OFFICIAL, "foreign", ("c", "a")),
    Persona("foreign_contractor", Role.CONTRACTOR, "foreign", ("c", "d")),
    Persona("foreign_manager", Role.MANAGER, "foreign"),
    Persona("foreign_auditor", Role.AUDITOR, "foreign"),
    Persona("foreign_administrator", Role.ADMINISTRATOR, "foreign"),
    Persona("foreign_rollup", Role.ROLLUP, "foreign"),
    # The third municipality's staff in every role; its official is (wrongly) assigned site C.
    Persona("third_official", Role.OFFICIAL, "third", ("d", "c")),
    Persona("third_contractor", Role.CONTRACTOR, "third", ("d",)),
    Persona("third_manager", Role.MANAGER, "third"),
    Persona("third_auditor", Role.AUDITOR, "third"),
    Persona("third_administrator", Role.ADMINISTRATOR, "third"),
    Persona("third_rollup", Role.ROLLUP, "third"),
)
BY_NAME = {persona.name: persona for persona in PERSONAS}

TARGETS = ("a", "b", "c", "d")
"""Site A (assigned to the home official and contractor), site B (same municipality, nobody
assigned), site C (the second municipality), site D (the third)."""
OWNER_OF_TARGET = {"a": "home", "b": "home", "c": "foreign", "d": "third"}


@dataclass
class World:
    home: Municipality
    foreign: Municipality
    third: Municipality
    sites: dict[str, Site]
    pickup: Procedure
    renewal: Procedure
    users: dict[str, StaffUser] = field(default_factory=dict)

    def site(self, key: str) -> Site:
        return self.sites[key]

    def municipality_of(self, key: str) -> Municipality:
        return self.sites[key].municipality

    def persona_municipality(self, persona: Persona) -> Municipality | None:
        return self.by_key(persona.municipality)

    def by_key(self, key: str | None) -> Municipality | None:
        return {"home": self.home, "foreign": self.foreign, "third": self.third, None: None}[key]

    @property
    def municipalities(self) -> tuple[Municipality, Municipality, Municipality]:
        return (self.home, self.foreign, self.third)


def world() -> World:
    """The three municipalities, four sites offering card pick-up and certificate renewal on
    weekdays 8:30–17:15, and one account per persona."""
    home = offices.municipality()
    foreign = offices.municipality(code=FOREIGN_CODE, name=FOREIGN_NAME)
    third = offices.municipality(code=THIRD_CODE, name=THIRD_NAME)
    pickup = offices.procedure("card_pickup")
    renewal = offices.procedure("cert_renewal")
    sites = {
        "a": offices.site(home, name="みどり本庁舎"),
        "b": offices.site(home, name="みどり北支所"),
        "c": offices.site(foreign, name="あおば町役場"),
        "d": offices.site(third, name="さくら村役場"),
    }
    for site in sites.values():
        site.procedures.set([pickup, renewal])
    built = World(
        home=home, foreign=foreign, third=third, sites=sites, pickup=pickup, renewal=renewal
    )
    for persona in PERSONAS:
        user = StaffUser.objects.create_user(
            persona.name,
            password=PASSWORD,
            role=persona.role,
            municipality=built.persona_municipality(persona),
            is_superuser=persona.superuser,
            is_staff=persona.superuser,
        )
        user.sites.set([sites[key] for key in persona.sites])
        built.users[persona.name] = user
    return built


@dataclass
class SignedIn:
    """The personas' world with every persona signed in through both steps (as
    `tests.conftest.login_staff` does) at one moment: `client(name)` is a test client carrying
    that persona's session — no sign-in per request. A module asks for it with the fixture
    `signed_in_personas` and says when the sign-ins happen: `SIGNED_IN_AT = <datetime>` (staff
    sessions idle out after 30 minutes: its requests are made then). It may also say what is
    done once in the world after the sign-ins, at that moment: `AFTER_SIGN_IN = <function of the
    SignedIn>` (kept with the world, like the sign-ins)."""

    world: World
    sessions: dict[str, str]

    def client(self, name: str) -> Any:
        """A fresh client (its own cookies) carrying `name`'s session, on the process's one
        request handler (`shared_handler`)."""
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.handler = shared_handler(tuple(settings.MIDDLEWARE))
        client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[name]
        return client


@functools.cache
def shared_handler(middleware: tuple[str, ...]) -> Any:
    """The test client's request handler, shared by every `SignedIn.client` (and by tests
    that make a new client per request under the suite's settings): a new `Client` has a
    handler of its own that builds the middleware chain on its first request (every
    middleware class instantiated again, WhiteNoise scanning the static files), once per
    request of a matrix that makes a new client per request. The chain holds no state of a
    request; a change of `MIDDLEWARE` gets a handler of its own (a test that changes the
    settings a middleware reads when it is built makes its own client)."""
    from django.test.client import ClientHandler

    return ClientHandler(enforce_csrf_checks=False)


def signed_in(at: dt.datetime, after: Callable[[SignedIn], None] | None = None) -> SignedIn:
    """`world()`, then every persona signed in at `at`, then `after` at `at`."""
    from django.conf import settings
    from django.test import Client

    from tests.conftest import login_staff
    from tests.frozen_clock import frozen_at

    built = world()
    sessions = {}
    with frozen_at(at):
        for persona in PERSONAS:
            client = Client()
            login_staff(client, built.users[persona.name])
            sessions[persona.name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    result = SignedIn(built, sessions)
    if after is not None:
        with frozen_at(at):
            after(result)
    return result


def on_the_day(day: dt.date) -> dt.datetime:
    """10:30 on `day` (Tokyo): the sites are open and a 10:00 visit has started."""
    from madoguchi.core import clock

    return clock.at(day, dt.time(10, 30))


# --- kept between tests ----------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCity:
    """The demo city (`madoguchi.demo.city`, its staff `demo-*`) a module's tests ask for with
    the `demo_city` fixture: the module says `DEMO_CITY = DemoCity(residents=…, seed=…)`. Built
    on the demo day's evening (tests/frozen_clock.py), where the fixture leaves the clock."""

    residents: int
    seed: int
    roomy: bool = False
    """Built as well: the permanent sites at `ROOMY_SITES`, the temporary counter open
    (`roomy_demo_sites`) and the slots of the twelve weeks from the demo day regenerated for
    those sizes (`ROOMY_SLOT_DAYS`) — once per world instead of in every test that means
    them (the regeneration is most of such a test's time)."""
    city: int = 0
    """Which of `madoguchi.demo.city.DEMO_CITIES` is built: 0 the first (デモ市), 1 the second
    (見本町, alone, as `madoguchi demo --municipalities 2` builds it beside the first)."""


@dataclass(frozen=True)
class DemoCommand:
    """A run of `madoguchi demo --no-serve` a module's tests ask for with the `demo_printed`
    fixture (what it printed): the module says `DEMO_COMMAND = DemoCommand(residents=…)`. Run
    once at the test's moment (its `now`) while consecutive tests ask for it, each test's
    changes rolled back — the accounts, devices and secrets it printed stay those of the run."""

    residents: int
    seed: int = 1
    """The command's `--seed` (its default 1)."""


ROOMY_SLOT_DAYS = 84
"""The days from the demo day whose slots a roomy demo city has regenerated: the weeks the
backlog page reads."""


@dataclass(frozen=True)
class Wanted:
    key: tuple[Any, ...]
    moment: dt.datetime
    build: Callable[..., Any] = field(compare=False)
    """What builds the world: of no argument, or, with a `base`, of (a copy of) the base's."""
    base: Wanted | None = field(default=None, compare=False)
    """The world this one is built on: held first (or kept, when it is held already) and this
    one built on top of it in a savepoint — the same rows as building both in one go, and
    rolled back to the base alone when a test wants the base (tests/world_order.py puts a
    derived world's tests right after its base's)."""


def base_of(key: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The key of the world `key`'s world is built on (`Wanted.base`), or None: a roomy demo
    city is the demo city of the same size and seed, resized."""
    if key[0] == "demo_city" and isinstance(key[1], DemoCity) and key[1].roomy:
        return ("demo_city", replace(key[1], roomy=False))
    if key[0] == "leaves":  # a module fixture reading the world once (`LEAVES_DEMO_CITY`)
        return key[1]  # type: ignore[no-any-return]
    return None


def rolls_back(request: pytest.FixtureRequest) -> bool:
    """Whether the requesting test runs in a transaction rolled back at its end (not a
    transactional test, not a live server): only such tests may share kept rows."""
    return item_rolls_back(request.node, request.fixturenames)


def item_rolls_back(item: Any, fixturenames: Any) -> bool:
    """`rolls_back` for a collected test, before any of its fixtures is set up."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
    ):
        return False
    return not {"transactional_db", "live_server"} & set(fixturenames)


def release_before(item: pytest.Item) -> None:
    """Roll the kept world back before a test that cannot share it sets up any fixture. Its
    per-test release (`_kept_world`) comes only with the database fixtures, after fixtures
    such as `live_server` or Playwright's `page`: once those ran, the test's code may see
    another connection object for the same database than the one holding the world's
    transaction, which then stays open — and SQLite refuses every other writer ("database is
    locked": a live-server test right after a `demo_city` test, seen in a two-file run)."""
    if _held and not item_rolls_back(item, getattr(item, "fixturenames", ())):
        release(_held[0].blocker)


def wanted(request: pytest.FixtureRequest) -> Wanted | None:
    """The kept world a test asks for (`personas` at its moment, `signed_in_personas` at its
    moment, its module's `SIGNED_IN_AT` and `AFTER_SIGN_IN`, its module's `DEMO_CITY`, its
    module's `DEMO_COMMAND` at its moment, or a factory's `city` or `hall`:
    `FACTORY_WORLDS`), or None."""
    names = set(request.fixturenames)
    if not rolls_back(request):
        return None
    if "personas" in names:
        moment = request.getfixturevalue("now")
        return Wanted(("personas", moment), moment, world)
    if "signed_in_personas" in names:
        moment = request.getfixturevalue("now")
        at = getattr(request.module, "SIGNED_IN_AT", None)
        if not isinstance(at, dt.datetime):
            pytest.fail("a module using `signed_in_personas` says SIGNED_IN_AT = <datetime>")
        after = getattr(request.module, "AFTER_SIGN_IN", None)
        return Wanted(
            ("signed_in_personas", moment, at, after), moment, lambda: signed_in(at, after)
        )
    if "demo_city" in names:
        spec = getattr(request.module, "DEMO_CITY", None)
        if not isinstance(spec, DemoCity):
            pytest.fail("a module using `demo_city` says DEMO_CITY = DemoCity(residents=…, seed=…)")
        return demo_city_wanted(spec)
    if "demo_printed" in names:
        command = getattr(request.module, "DEMO_COMMAND", None)
        if not isinstance(command, DemoCommand):
            pytest.fail(
                "a module using `demo_printed` says DEMO_COMMAND = DemoCommand(residents=…)"
            )
        moment = request.getfixturevalue("now")

        def run() -> str:
            from io import StringIO

            from django.core.management import call_command

            out = StringIO()
            call_command(
                "demo", residents=command.residents, seed=command.seed, no_serve=True, stdout=out
            )
            return out.getvalue()

        return Wanted(("demo_command", command, moment), moment, run)
    kept = factory_world(request.node)
    if kept is not None:
        return Wanted(("factory", kept), FACTORY_WORLDS[kept][1], _factory_build(kept))
    return None


FACTORY_WORLDS = {
    "city": ("tests.conftest", RESIDENTS_NOW),
    "hall": ("tests.walkins.conftest", RESIDENTS_NOW),
    "site": ("tests.api.conftest", BOOKINGS_NOW),
}
"""The small worlds of the factories a test asks for by fixture — the residents' `city`
(tests/resident_site/factories.py), the walk-in `hall` (tests/walkins/conftest.py) and the
API's booking `site` (tests/api/conftest.py) — kept like the worlds above for consecutive tests
that roll back, instead of built again by each (~23–30 statements, ~5 ms CPU a build): fixture
name → (the module that defines the shared fixture — a module's own fixture of that name builds
what it builds —, the moment it is built at). The city's and the hall's rows are offices'
reference rows only (a municipality, procedures, a site with its counters and hours), which
carry no time: each test finds the rows it found before, numbered the same. The API's site has
a card, whose rows carry the moment they were made: it is built at the bookings' Tuesday, the
`now` of tests/api (whose booking tests froze the clock there before building it)."""


def factory_world(item: Any) -> str | None:
    """Which factory world (`FACTORY_WORLDS`) `item` asks for through its shared fixture, or
    None."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    for name, (module, _moment) in FACTORY_WORLDS.items():
        definitions = info.name2fixturedefs.get(name)
        if definitions and definitions[-1].func.__module__ == module:
            return name
    return None


def _factory_build(name: str) -> Callable[[], Any]:
    if name == "city":
        from tests.resident_site import factories

        return factories.city
    if name == "site":
        from tests.api.conftest import booking_site

        return booking_site
    from tests.walkins.conftest import make_hall

    return make_hall


def holding(name: str) -> bool:
    """Whether the world held for the running test is the factory world `name` (a test asking
    for two worlds is handed the first `wanted` names; the other's fixture builds its rows
    itself)."""
    return bool(_held) and _held[-1].key[:2] == ("factory", name)


def demo_city_wanted(spec: DemoCity) -> Wanted:
    """The kept world of the demo city `spec` (`wanted` for a module's `DEMO_CITY`; a module
    fixture that reads it once, then rolls it back, holds it with this too — its tests are
    named in the module's `LEAVES_DEMO_CITY`, and tests/world_order.py runs them right after
    the city's own tests, while it is still held)."""
    from madoguchi.demo.city import DEMO_CITIES, build_demo_city
    from tests.frozen_clock import DEMO_DAY, DEMO_EVENING

    def build() -> Municipality:  # the plain city: also a roomy one's base
        summary = build_demo_city(
            residents=spec.residents,
            seed=spec.seed,
            today=DEMO_DAY,
            city=DEMO_CITIES[spec.city],
        )
        return summary.municipality

    if not spec.roomy:
        return Wanted(("demo_city", spec), DEMO_EVENING, build)

    def roomy(city: Municipality) -> Municipality:
        from madoguchi.core.audit import Actor
        from madoguchi.reservations.slots import regenerate_slots

        roomy_demo_sites(city, today=DEMO_DAY)
        last = DEMO_DAY + dt.timedelta(days=ROOMY_SLOT_DAYS - 1)
        regenerate_slots(first=DEMO_DAY, last=last, actor=Actor.system("test"))
        return city

    base = Wanted(("demo_city", replace(spec, roomy=False)), DEMO_EVENING, build)
    return Wanted(("demo_city", spec), DEMO_EVENING, roomy, base=base)


@dataclass
class _Held:
    key: tuple[Any, ...]
    value: Any
    outer: Any
    blocker: Any


_held: list[_Held] = []
"""The worlds kept now in this process (pytest-xdist: one set per worker), the outermost
first: one world, or a base and a world built on it (`Wanted.base`)."""

builds: list[tuple[Any, ...]] = []
"""The key of every world this process built, in order (`pytest --world-builds` prints them:
tests/world_order.py)."""


def hold(want: Wanted, django_db_blocker: Any) -> Any:
    """The rows `want` names, built ONCE while consecutive tests ask for the same world — as
    Django's `setUpTestData` keeps a class's rows: the build runs at its moment inside a
    transaction held open, each test runs in a savepoint within it (pytest-django's `db`, which
    tests/conftest.py makes wait for this), and the world is rolled back as soon as a test wants
    another world or none. A world built on another (`Wanted.base`) is built in a savepoint on
    top of its base, held or built first, and a test that wants the base after it gets the base
    back by rolling that savepoint back, not by building it again. pytest-django runs every
    test that rolls back before any transactional one, so nothing commits or flushes while a
    world is held. Fixtures built on it hand each test a deep copy of the objects
    (`copy.deepcopy`, as `setUpTestData` does)."""
    if _held and _held[-1].key == want.key:
        return _held[-1].value
    if want.base is not None:
        if _held and _held[0].key == want.base.key:
            _release_to(1, django_db_blocker)
        else:
            release(django_db_blocker)
            hold(want.base, django_db_blocker)
        under = fresh_copy(_held[0].value)
        return _build(want, django_db_blocker, lambda: want.build(under))
    if _held and _held[0].key == want.key:  # the base, held under the world built on it
        _release_to(1, django_db_blocker)
        return _held[0].value
    release(django_db_blocker)
    return _build(want, django_db_blocker, want.build)


def _build(want: Wanted, django_db_blocker: Any, build: Callable[[], Any]) -> Any:
    """`build()` at `want`'s moment in a transaction (a savepoint, on a world held already)
    left open, and held."""
    from django.db import transaction
    from django.test import override_settings

    from tests.frozen_clock import frozen_at

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            # the suite's settings (tests/conftest.py), whatever the first test wanting the
            # world set before it is built: the rows are the same for every test sharing it
            with frozen_at(want.moment), override_settings(**SUITE_SETTINGS):
                value = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    builds.append(want.key)
    _held.append(_Held(want.key, value, outer, django_db_blocker))
    return value


def release(django_db_blocker: Any) -> None:
    """Roll the kept worlds back, if any is held. When the connection is no longer inside the
    world's transaction, there is nothing left to roll back. That was seen once, in CI, at a
    pytest-xdist worker's session teardown after its last test (a kept-world one) had passed:
    the session's last release ran after pytest-django had torn the test database down (session
    fixtures end last-started first), on a connection closed inside the world's transaction;
    `django_db_setup` (tests/conftest.py) now releases the world before the database goes. A
    world lost while tests still use it fails them."""
    _release_to(0, django_db_blocker)


def _release_to(kept: int, django_db_blocker: Any) -> None:
    """Roll back the held worlds built on the first `kept`, the innermost first."""
    from django.db import connection, transaction

    while len(_held) > kept:
        held = _held.pop()
        with django_db_blocker.unblock():
            if not connection.in_atomic_block:
                continue
            transaction.set_rollback(True)
            held.outer.__exit__(None, None, None)


def fresh_copy(kept: T) -> T:
    return copy.deepcopy(kept)


# --- the demo city at fixed sizes ------------------------------------------------------------

ROOMY_SITES = {
    # kind: (counters, terminals, weekday counters open)
    "main_office": (6, 4, 6),
    "branch_office": (2, 2, 2),
}
"""The counters and terminals a test's numbers were worked out on (the demo's sizes before it
was sized to fall short in the renewal wave's peak): a main office with four terminals, branches
with two, every one open every weekday 8:30–17:15, the main office on Thursday evenings too."""


def roomy_demo_sites(city: Municipality, *, today: dt.date) -> None:
    """Fix the demo city's permanent sites at `ROOMY_SITES`, whatever the demo's own sizing, and
    open its temporary counter as `open_demo_temporary_counter` does — for tests whose figures (a
    pile of notices that one kind of opening absorbs) mean these sizes. Slots already made keep
    their seats: a test that reads seats regenerates them."""
    from madoguchi.offices.models import Counter, OpeningSession, SessionKind, SiteKind, Terminal

    for site in Site.objects.filter(municipality=city):
        if site.kind not in ROOMY_SITES:  # the post office keeps its hours
            continue
        counters, terminals, open_counters = ROOMY_SITES[site.kind]
        for number in range(1, counters + 1):
            Counter.objects.get_or_create(site=site, name=f"{number}番窓口")
        for number in range(1, terminals + 1):
            Terminal.objects.get_or_create(site=site, name=f"端末{number}")
        site.opening_sessions.filter(kind=SessionKind.WEEKDAY).delete()
        for weekday in range(5):
            OpeningSession.objects.create(
                site=site,
                weekday=weekday,
                kind=SessionKind.WEEKDAY,
                starts_at_time=dt.time(8, 30),
                ends_at_time=dt.time(17, 15),
                counters_open=open_counters,
            )
        if site.kind == SiteKind.MAIN_OFFICE:
            site.opening_sessions.filter(kind=SessionKind.EVENING).update(counters_open=2)
    open_demo_temporary_counter(city, today=today)


def open_demo_temporary_counter(city: Municipality, *, today: dt.date) -> None:
    """The demo city's temporary counter (its site and its linked candidate) open from 30 days
    before `today` to 120 days after, whenever the demo's own forecast would open it — for tests
    that mean a temporary counter open now and closing inside their horizon."""
    from madoguchi.forecasts.models import TemporaryCounterOption
    from madoguchi.offices.models import SiteKind

    opens_on, closes_on = today - dt.timedelta(days=30), today + dt.timedelta(days=120)
    Site.objects.filter(municipality=city, kind=SiteKind.TEMPORARY).update(
        open_from=opens_on, open_until=closes_on
    )
    TemporaryCounterOption.objects.filter(municipality=city, site__isnull=False).update(
        opens_on=opens_on, closes_on=closes_on
    )
