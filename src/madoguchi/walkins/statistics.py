"""What happened in the queue: per site, day and procedure — served, no-shows, appointments
and walk-ins, waits (mean, 90th percentile), service time, and how far the estimate each
ticket was given missed the real wait.

The wait is from taking the ticket to the first call (`issued_at` → `called_at`; a recall or a
transfer does not restart it); the service time from the start of service to its end
(`served_at` → `finished_at`, finished tickets only). The estimate's error is
|estimate given at issue − wait|, over the tickets that were called.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from madoguchi.core.clock import JST
from madoguchi.offices.models import Site
from madoguchi.walkins.models import QueueTicket, TicketStatus

MIN_SAMPLES_TO_ADOPT = 10
"""A procedure's observed service time is offered as the new planning assumption only with at
least this many finished services in the range."""


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (`share` 0.9 for p90): the smallest value with at least
    `share` of the values at or below it. None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class TicketFacts:
    """One ticket as the statistics see it (minutes; None where it does not apply)."""

    site_id: int
    site_name: str
    day: dt.date
    procedure_id: int
    procedure_name: str
    status: str
    appointment: bool
    issued_hour: int
    wait: float | None
    service: float | None
    estimate: int | None


@dataclass
class Summary:
    """The numbers of one group of tickets (a site, day and procedure; or a total)."""

    tickets: int = 0
    served: int = 0
    no_shows: int = 0
    cancelled: int = 0
    appointments: int = 0
    walk_ins: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)

    def add(self, facts: TicketFacts) -> None:
        self.tickets += 1
        self.served += facts.status == TicketStatus.DONE
        self.no_shows += facts.status == TicketStatus.NO_SHOW
        self.cancelled += facts.status == TicketStatus.CANCELLED
        self.appointments += facts.appointment
        self.walk_ins += not facts.appointment
        if facts.wait is not None:
            self.waits.append(facts.wait)
            if facts.estimate is not None:
                self.errors.append(abs(facts.estimate - facts.wait))
        if facts.service is not None:
            self.services.append(facts.service)

    @property
    def wait_mean(self) -> float | None:
        return _mean(self.waits)

    @property
    def wait_p90(self) -> float | None:
        return percentile(self.waits, 0.9)

    @property
    def service_mean(self) -> float | None:
        return _mean(self.services)

    @property
    def estimate_mae(self) -> float | None:
        return _mean(self.errors)


@dataclass(frozen=True)
class Row:
    site_id: int
    site_name: str
    day: dt.date
    procedure_id: int
    procedure_name: str
    summary: Summary


@dataclass(frozen=True)
class Report:
    rows: list[Row]
    total: Summary
    by_procedure: dict[int, tuple[str, Summary]]
    waits_by_hour: dict[int, Summary]


def _minutes(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 60)


def facts_of(tickets: Iterable[QueueTicket]) -> list[TicketFacts]:
    """`tickets` (with site and procedure loaded) as `TicketFacts`."""
    return [
        TicketFacts(
            site_id=t.site_id,
            site_name=t.site.name,
            day=t.business_day,
            procedure_id=t.procedure_id,
            procedure_name=t.procedure.name,
            status=t.status,
            appointment=t.reservation_id is not None,
            issued_hour=t.issued_at.astimezone(JST).hour,
            wait=_minutes(t.issued_at, t.called_at),
            service=_minutes(t.served_at, t.finished_at) if t.status == TicketStatus.DONE else None,
            estimate=t.estimated_wait_minutes,
        )
        for t in tickets
    ]


def summarise(facts: Iterable[TicketFacts]) -> Report:
    """Group `facts` by site, day and procedure; totals per procedure and by hour of issue."""
    groups: dict[tuple[dt.date, str, int, str, int], Summary] = defaultdict(Summary)
    total = Summary()
    by_procedure: dict[int, tuple[str, Summary]] = {}
    by_hour: dict[int, Summary] = defaultdict(Summary)
    for item in facts:
        key = (item.day, item.site_name, item.site_id, item.procedure_name, item.procedure_id)
        groups[key].add(item)
        total.add(item)
        by_procedure.setdefault(item.procedure_id, (item.procedure_name, Summary()))[1].add(item)
        by_hour[item.issued_hour].add(item)
    rows = [
        Row(site_id, site_name, day, procedure_id, procedure_name, summary)
        for (day, site_name, site_id, procedure_name, procedure_id), summary in sorted(
            groups.items(), key=lambda kv: kv[0]
        )
    ]
    return Report(rows, total, by_procedure, dict(sorted(by_hour.items())))


def queue_report(sites: Sequence[Site], first: dt.date, last: dt.date) -> Report:
    """The report for `sites` from `first` to `last` (business days, inclusive)."""
    tickets = (
        QueueTicket.objects.filter(site__in=sites, business_day__range=(first, last))
        .select_related("site", "procedure")
        .order_by("pk")
    )
    return summarise(facts_of(tickets))
