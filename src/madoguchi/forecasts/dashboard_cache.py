"""The planning dashboard's figures kept, computed again only when their inputs change.

The dashboard computes the renewal forecast against capacity (also with the regular hours alone
and with a what-if), the counters needed for the service level (a site simulation per session
kind), the 12-week backlog projection with its proposals and the holding rates: over a hundred
queries and, in a fresh process, seconds of simulation — the same for any register size. Under
load that passed 1 s per view on PostgreSQL. Like the roll-up's reports (`report_cache`), the
figures are kept in the database (`KeptDashboard`) with the digest of what they were built
from — the kept report's own digest, `report_inputs_digest`: the day, the municipality, its
policy, temporary-counter options, register snapshots, sites, counters, terminals, sessions,
special openings, closures, procedures, cards, slots (seats moved between slots included),
application counts — so a view takes the digest (about twenty small statements) and unpickles
the kept figures. Kept in the database rather than per process: every worker, and one started a
moment ago, reads what any other computed.

The choices (months, take-up, what-if, the page's language, the first month) key the figures;
each municipality keeps at most `KEPT_PER_MUNICIPALITY` sets of choices, the most recently built
(bookmarked what-ifs beyond that are computed again). The code that computes the figures is part
of the key and of the payload (`code_digest`: the SHA-256 of the package's Python sources), so
figures pickled by another version of the code are never read back (`forecasts.kept`). The
digest is taken before the build, so a change made during it leaves the kept figures stale
rather than wrongly fresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.utils.translation import get_language

from madoguchi.core import clock
from madoguchi.core.code_version import code_digest
from madoguchi.forecasts.kept import kept_or_built
from madoguchi.forecasts.models import KeptDashboard
from madoguchi.forecasts.report_cache import report_inputs_digest
from madoguchi.forecasts.staffing_cache import digest_of
from madoguchi.offices.models import Municipality

KEPT_PER_MUNICIPALITY = 16
T = TypeVar("T")


def choices_key(choices: dict[str, Any]) -> str:
    """The key of one set of the page's choices, in the active language, for this code."""
    return digest_of({"code": code_digest(), "language": get_language(), **choices})


def kept_figures(
    municipality: Municipality,
    *,
    choices: dict[str, Any],
    build: Callable[[], T],
    kind: type[T],
) -> T:
    """The figures `build()` computes for `choices` as of today: the kept ones when the inputs
    are unchanged, else computed now and kept (replacing the previous ones for these choices)."""
    figures, built = kept_or_built(
        KeptDashboard,
        digest=report_inputs_digest(municipality, today=clock.today()),
        kind=kind,
        build=build,
        municipality=municipality,
        choices_key=choices_key(choices),
    )
    if not built:
        return figures
    stale = KeptDashboard.objects.filter(municipality=municipality).order_by("-built_at", "-pk")[
        KEPT_PER_MUNICIPALITY:
    ]
    KeptDashboard.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return figures
