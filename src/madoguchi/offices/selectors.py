"""Reads about sites and their hours, shaped for pages and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When

from madoguchi.offices.calendar import SiteCalendar, SiteDay
from madoguchi.offices.models import Procedure, Site, SiteKind

KIND_ORDER = [
    SiteKind.MAIN_OFFICE,
    SiteKind.BRANCH_OFFICE,
    SiteKind.TEMPORARY,
    SiteKind.POST_OFFICE,
    SiteKind.OUTREACH,
]


def active_sites() -> QuerySet[Site]:
    """Sites in service, main office first, with their procedures prefetched."""
    kind_rank = Case(
        *(When(kind=kind, then=Value(rank)) for rank, kind in enumerate(KIND_ORDER)),
        output_field=IntegerField(),
    )
    return (
        Site.objects.filter(is_active=True)
        .select_related("municipality")
        .prefetch_related(Prefetch("procedures", queryset=Procedure.objects.order_by("sort_order")))
        .order_by("municipality_id", kind_rank, "name")
    )


def offered_procedures(site: Site) -> list[Procedure]:
    """What `site` offers, with the site-kind rule applied (prefetch-friendly)."""
    return [p for p in site.procedures.all() if p.allowed_at(site.kind)]


@dataclass(frozen=True)
class SiteHours:
    site: Site
    procedures: list[Procedure]
    days: list[SiteDay]


def site_hours(first: dt.date, days: int) -> list[SiteHours]:
    """Every active site with its offered procedures and its hours for `days` days from `first`."""
    last = first + dt.timedelta(days=days - 1)
    return [
        SiteHours(
            site=site,
            procedures=offered_procedures(site),
            days=list(SiteCalendar.load(site).days(first, last)),
        )
        for site in active_sites()
    ]
