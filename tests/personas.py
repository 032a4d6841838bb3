"""The staff side's test personas: one municipality with two sites, its staff in every role,
accounts that must see nothing, and a second municipality with its own site and staff.

`world()` builds them (fixture `personas` in tests/conftest.py). Names and passwords are
fixed so browser tests can sign in as a persona too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.staff.models import Role, StaffUser
from tests.offices import factories as offices

PASSWORD = "persona-pw-for-tests"
HOME_NAME = "みどり市"
FOREIGN_NAME = "あおば町"


@dataclass(frozen=True)
class Persona:
    """Who signs in: a role, a municipality ("home", "foreign" or None) and assigned sites."""

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
    # A superuser is an administrator of its own municipality only, whatever its role says.
    Persona("superuser", Role.OFFICIAL, "home", superuser=True),
    # Accounts without a municipality see nothing, even when sites are assigned to them.
    Persona("superuser_nowhere", Role.ADMINISTRATOR, None, ("a",), superuser=True),
    Persona("manager_nowhere", Role.MANAGER, None, ("a",)),
    # The second municipality's staff; the official is (wrongly) also assigned site A.
    Persona("foreign_official", Role.OFFICIAL, "foreign", ("c", "a")),
    Persona("foreign_manager", Role.MANAGER, "foreign"),
)
BY_NAME = {persona.name: persona for persona in PERSONAS}

TARGETS = ("a", "b", "c")
"""Site A (assigned to the home official and contractor), site B (same municipality, nobody
assigned), site C (the second municipality)."""


@dataclass
class World:
    home: Municipality
    foreign: Municipality
    sites: dict[str, Site]
    pickup: Procedure
    renewal: Procedure
    users: dict[str, StaffUser] = field(default_factory=dict)

    def site(self, key: str) -> Site:
        return self.sites[key]

    def municipality_of(self, key: str) -> Municipality:
        return self.sites[key].municipality

    def persona_municipality(self, persona: Persona) -> Municipality | None:
        return {"home": self.home, "foreign": self.foreign, None: None}[persona.municipality]


def world() -> World:
    """Both municipalities, three sites offering card pick-up and certificate renewal on
    weekdays 8:30–17:15, and one account per persona."""
    home = offices.municipality(code="131041", name=HOME_NAME)
    foreign = offices.municipality(code="999997", name=FOREIGN_NAME)
    pickup = offices.procedure("card_pickup")
    renewal = offices.procedure("cert_renewal")
    sites = {
        "a": offices.site(home, name="みどり本庁舎"),
        "b": offices.site(home, name="みどり北支所"),
        "c": offices.site(foreign, name="あおば町役場"),
    }
    for site in sites.values():
        site.procedures.set([pickup, renewal])
    built = World(home=home, foreign=foreign, sites=sites, pickup=pickup, renewal=renewal)
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


def on_the_day(day: dt.date) -> dt.datetime:
    """10:30 on `day` (Tokyo): the sites are open and a 10:00 visit has started."""
    from madoguchi.core import clock

    return clock.at(day, dt.time(10, 30))
