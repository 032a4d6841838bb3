"""Reads about sites and their hours, shaped for pages and the API."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Case, IntegerField, Model, Prefetch, QuerySet, Value, When
from django.db.models.signals import m2m_changed, post_delete, post_save

from madoguchi.offices.calendar import SiteCalendar, SiteDay
from madoguchi.offices.models import Municipality, Procedure, Site, SiteKind

KIND_ORDER = [
    SiteKind.MAIN_OFFICE,
    SiteKind.BRANCH_OFFICE,
    SiteKind.TEMPORARY,
    SiteKind.POST_OFFICE,
    SiteKind.OUTREACH,
]


# --- reference data for the booking path -------------------------------------------------------
#
# A booking needs its slot's site, municipality (booking rules) and procedure. They change a few
# times a year, yet reading them costs a query per booking; so each process keeps them for
# MADOGUCHI_REFERENCE_CACHE_SECONDS. Saving one of them clears this process's copies at once;
# other processes see the change within that time. Callers must not modify what they get.

T = TypeVar("T", bound=Model | None)
_reference: dict[tuple[str, int | str], tuple[float, Any]] = {}
K = TypeVar("K", int, str)


def cached_for_booking(kind: str, pk: K, load: Callable[[K], T]) -> T:
    """`load(pk)`, kept per process for MADOGUCHI_REFERENCE_CACHE_SECONDS (read-only!)."""
    ttl = settings.MADOGUCHI_REFERENCE_CACHE_SECONDS
    if ttl <= 0:
        return load(pk)
    if len(_reference) > 20_000:  # a long day's worth of slots: start afresh
        _reference.clear()
    now = time.monotonic()
    hit = _reference.get((kind, pk))
    if hit is not None and now - hit[0] < ttl:
        return hit[1]  # type: ignore[no-any-return]
    value = load(pk)
    if value is not None:  # what does not exist yet may exist in a moment
        _reference[(kind, pk)] = (now, value)
    return value


def keep_for_booking(kind: str, values: dict[int, Model]) -> None:
    """Put reference data read together into the cache (a day's slots in one read); nothing
    when the cache is off."""
    if settings.MADOGUCHI_REFERENCE_CACHE_SECONDS <= 0:
        return
    now = time.monotonic()
    for pk, value in values.items():
        _reference[(kind, pk)] = (now, value)


def site_for_booking(site_id: int) -> Site:
    """The site with its municipality (cached, read-only)."""
    return cached_for_booking(
        "site", site_id, lambda pk: Site.objects.select_related("municipality").get(pk=pk)
    )


def procedure_for_booking(procedure_id: int) -> Procedure:
    """The procedure (cached, read-only)."""
    return cached_for_booking("procedure", procedure_id, lambda pk: Procedure.objects.get(pk=pk))


def procedure_by_code(code: str) -> Procedure | None:
    """The procedure with this code, or None (cached, read-only): the booking pages name the
    procedure in every URL."""
    return cached_for_booking("procedure_code", code, _procedure_with_code)


def _procedure_with_code(code: str) -> Procedure | None:
    procedure = Procedure.objects.filter(code=code[:40]).first()
    if procedure is not None:  # the form and the booking ask for it by id: no read of its own
        keep_for_booking("procedure", {procedure.pk: procedure})
    return procedure


_municipalities: dict[str, tuple[float, dict[str, Municipality]]] = {}


def municipalities_by_code() -> dict[str, Municipality]:
    """Every municipality by code (what `offices.tenancy` resolves each public request
    against), kept like the other reference data (read-only!)."""
    ttl = settings.MADOGUCHI_REFERENCE_CACHE_SECONDS
    now = time.monotonic()
    hit = _municipalities.get("all")
    if ttl > 0 and hit is not None and now - hit[0] < ttl:
        return hit[1]
    found = {m.code: m for m in Municipality.objects.order_by("code")}
    if ttl > 0:
        _municipalities["all"] = (now, found)
    return found


def forget_reference_data(**_: object) -> None:
    _reference.clear()
    _municipalities.clear()


for _model in (Municipality, Site, Procedure):
    post_save.connect(forget_reference_data, sender=_model, dispatch_uid=f"ref-save-{_model}")
    post_delete.connect(forget_reference_data, sender=_model, dispatch_uid=f"ref-del-{_model}")
m2m_changed.connect(  # what a site offers (`active_site_for_booking`)
    forget_reference_data, sender=Site.procedures.through, dispatch_uid="ref-site-procedures"
)


def _kind_rank() -> Case:
    """A site's place by its kind (`KIND_ORDER`: the main office first)."""
    return Case(
        *(When(kind=kind, then=Value(rank)) for rank, kind in enumerate(KIND_ORDER)),
        output_field=IntegerField(),
    )


def active_sites(municipality: Municipality | None = None) -> QuerySet[Site]:
    """Sites in service, main office first, with their procedures prefetched; only
    `municipality`'s when given (every public page passes the request's: offices.tenancy)."""
    sites = Site.objects.filter(is_active=True)
    if municipality is not None:
        sites = sites.filter(municipality=municipality)
    return (
        sites.select_related("municipality")
        .prefetch_related(Prefetch("procedures", queryset=Procedure.objects.order_by("sort_order")))
        .order_by("municipality_id", _kind_rank(), "name")
    )


def active_site(site_id: int, municipality: Municipality | None = None) -> Site | None:
    """The site `site_id` if it is in service (and `municipality`'s, when given), with its
    municipality and procedures as `active_sites` gives them, or None. Read without
    `active_sites`' ORDER BY: one row needs no order, and the kind order's CASE cost as much to
    build and compile as the rest of the read (a walk-in ticket or queue asked of the API or the
    queue pages, an uncached booking month: 1.6 → 0.8 ms CPU for an unknown site, 2.5 → 1.6 ms
    for one in service, SQLite)."""
    return next(iter(active_sites(municipality).filter(pk=site_id).order_by()[:1]), None)


def municipality_sites(municipality_id: int) -> list[Site]:
    """One municipality's sites in service in `active_sites`' order (main office first), the
    site rows alone: the staff pages' lists of sites show a site's name and kind and link to
    it — neither its procedures nor its municipality are read. Read in the order of their
    names and put in `KIND_ORDER` here (a stable sort: by name within a kind, as the database
    ordered them), not by `_kind_rank` in SQL, whose CASE costs more to build and compile
    than the query's rows to sort."""
    by_name = Site.objects.filter(is_active=True, municipality_id=municipality_id).order_by("name")
    return sorted(by_name, key=lambda site: KIND_ORDER.index(SiteKind(site.kind)))


def active_site_for_booking(site_id: int) -> Site | None:
    """The active site with its municipality and procedures (`active_sites`), from the
    reference cache (read-only!): the month and day pages re-render every few seconds in a
    rush, and which site offers what changes a few times a year."""
    return cached_for_booking("active_site", site_id, _active_site)


def _active_site(site_id: int) -> Site | None:
    site = active_site(site_id)
    if (
        site is not None
    ):  # with its municipality, as `site_for_booking` keeps it: no read of its own
        keep_for_booking("site", {site.pk: site})
    return site


def offered_procedures(site: Site) -> list[Procedure]:
    """What `site` offers, with the site-kind rule applied (prefetch-friendly)."""
    return [p for p in site.procedures.all() if p.allowed_at(site.kind)]


@dataclass(frozen=True)
class SiteHours:
    site: Site
    procedures: list[Procedure]
    days: list[SiteDay]


def site_hours(
    first: dt.date, days: int, municipality: Municipality | None = None
) -> list[SiteHours]:
    """Every active site (of `municipality` when given) with its offered procedures and its
    hours for `days` days from `first`."""
    last = first + dt.timedelta(days=days - 1)
    return [
        SiteHours(
            site=site,
            procedures=offered_procedures(site),
            days=list(SiteCalendar.load(site).days(first, last)),
        )
        for site in active_sites(municipality)
    ]
