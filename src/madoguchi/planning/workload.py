"""All the counter work, week by week: visits of every kind and the back-office work behind them.

Inputs are weekly counts the adapter reads (card and certificate renewals from the register,
new-card applications and the steady visits from the municipality's rates) and the municipality's
policy: each kind of work's minutes and whether it needs an integrated terminal, the share of
applications made at a counter and, of those, the share of 申請時来庁 (identity checked when
applying; the card is mailed, so no hand-over visit follows). docs/planning-policy.md says where
each number comes from.

The flow of one card:

    application ──(at a counter: share a; of those 申請時来庁: share b)──► J-LIS production
        (the production lag, `planning.arrivals`) ──► delivered: inspection + pre-issuance setup,
        then a notice (交付時来庁) or the card mailed (申請時来庁)
        ──► a hand-over visit (交付時来庁 only)

Certificate renewals, PIN resets and other visits are one counter visit each, in their week.

Pure: numpy and dataclasses only (the import-linter contract "planning is pure").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from madoguchi.planning.arrivals import DEFAULT_LAG_WEIGHTS, lag_vector

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "PICKUP_WORK",
    "PIN_RESET_WORK",
    "WORK_KINDS",
    "WorkKind",
    "Workload",
    "WorkloadParameters",
    "card_applications",
    "weekly_workload",
]

PICKUP_WORK = "card_pickup"
"""The work kind of a card pick-up visit: the procedure's own code, written here because the
pure engine cannot import `offices.ProcedureCode`; the rest of the project names it by this."""

PIN_RESET_WORK = "pin_reset"
"""The work kind of a PIN reset visit: the procedure's own code (`offices.ProcedureCode.PIN_RESET`),
written here for the same reason as :data:`PICKUP_WORK`."""

WORK_KINDS: tuple[str, ...] = (
    PICKUP_WORK,
    "cert_renewal",
    "application",
    "application_in_person",
    PIN_RESET_WORK,
    "other_visit",
    "setup",
    "notice",
)
"""Every kind of work, in the order the pages list them; the last two are back-office work."""

BACK_OFFICE_KINDS = frozenset({"setup", "notice"})


@dataclass(frozen=True)
class WorkKind:
    """One kind of work: minutes each and whether it takes an integrated terminal."""

    minutes: float
    needs_terminal: bool

    def __post_init__(self) -> None:
        if not 0 <= self.minutes <= 240:
            raise ValueError(f"minutes must be within 0..240, got {self.minutes!r}")


@dataclass(frozen=True)
class WorkloadParameters:
    """The municipality's assumptions (shares are 0..1, rates are per week)."""

    kinds: Mapping[str, WorkKind]
    counter_application_share: float = 0.2
    apply_in_person_share: float = 0.1
    new_cards_per_week: float = 0.0
    pin_resets_per_week: float = 0.0
    other_visits_per_week: float = 0.0
    lag_weights: Mapping[int, float] = field(default_factory=lambda: dict(DEFAULT_LAG_WEIGHTS))

    def __post_init__(self) -> None:
        missing = set(WORK_KINDS) - set(self.kinds)
        if missing:
            raise ValueError(f"minutes missing for {', '.join(sorted(missing))}")
        for name in ("counter_application_share", "apply_in_person_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be within 0..1")
        for name in ("new_cards_per_week", "pin_resets_per_week", "other_visits_per_week"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be ≥ 0")


@dataclass(frozen=True)
class Workload:
    """Counts per kind of work and week (`counts[kind][week]`), with the parameters' minutes."""

    counts: Mapping[str, FloatArray]
    kinds: Mapping[str, WorkKind]

    @property
    def weeks(self) -> int:
        return len(self.counts[PICKUP_WORK])

    def hours(self, kind: str) -> FloatArray:
        """Staff hours of one kind of work per week."""
        return self.counts[kind] * self.kinds[kind].minutes / 60

    def _sum_hours(self, kinds: Sequence[str]) -> FloatArray:
        total = np.zeros(self.weeks)
        for kind in kinds:
            total += self.hours(kind)
        return total

    @property
    def counter_kinds(self) -> tuple[str, ...]:
        return tuple(kind for kind in WORK_KINDS if kind not in BACK_OFFICE_KINDS)

    @property
    def counter_hours(self) -> FloatArray:
        """Hours at the counter per week (every visit of every kind)."""
        return self._sum_hours(self.counter_kinds)

    @property
    def back_office_hours(self) -> FloatArray:
        """Hours behind the counter per week (setup, notices and mailing)."""
        return self._sum_hours(sorted(BACK_OFFICE_KINDS))

    @property
    def counter_visits(self) -> FloatArray:
        total = np.zeros(self.weeks)
        for kind in self.counter_kinds:
            total += self.counts[kind]
        return total

    def terminal_hours(self, *, counter: bool) -> FloatArray:
        """Terminal hours per week of the counter's (or the back office's) kinds that need one."""
        kinds = self.counter_kinds if counter else sorted(BACK_OFFICE_KINDS)
        return self._sum_hours([kind for kind in kinds if self.kinds[kind].needs_terminal])


def card_applications(
    card_renewals: Sequence[float] | FloatArray, parameters: WorkloadParameters
) -> FloatArray:
    """Card applications per week: the week's card renewals and the new cards at the
    municipality's rate (what J-LIS produces, and what comes back through the production lag)."""
    applications: FloatArray = (
        np.asarray(card_renewals, dtype=np.float64) + parameters.new_cards_per_week
    )
    return applications


def weekly_workload(
    card_renewals: Sequence[float] | FloatArray,
    cert_renewals: Sequence[float] | FloatArray,
    parameters: WorkloadParameters,
    *,
    warm_up_weeks: int = 0,
) -> Workload:
    """The work of every kind per week from weekly renewals and the parameters.

    Card renewals and new cards are applications in their week; the cards come back through
    the production lag. The first `warm_up_weeks` of the inputs only feed the lag (their cards
    arrive inside the horizon) and are dropped from the answer, so the first weeks are not short
    of the hand-overs of cards applied for before the horizon. Raises ValueError when the two
    renewal series differ in length or are shorter than the warm-up.
    """
    cards = np.asarray(card_renewals, dtype=np.float64)
    certs = np.asarray(cert_renewals, dtype=np.float64)
    if cards.shape != certs.shape or cards.ndim != 1:
        raise ValueError("card and certificate renewals need one value per week each")
    if not 0 <= warm_up_weeks < len(cards):
        raise ValueError("warm_up_weeks must leave at least one week")
    weeks = len(cards)
    applications = card_applications(cards, parameters)
    at_counter = applications * parameters.counter_application_share
    in_person = at_counter * parameters.apply_in_person_share
    lag = lag_vector(parameters.lag_weights)
    delivered = np.convolve(applications, lag)[:weeks]
    mailed_share = parameters.counter_application_share * parameters.apply_in_person_share
    counts = {
        PICKUP_WORK: delivered * (1 - mailed_share),
        "cert_renewal": certs,
        "application": at_counter - in_person,
        "application_in_person": in_person,
        PIN_RESET_WORK: np.full(weeks, parameters.pin_resets_per_week),
        "other_visit": np.full(weeks, parameters.other_visits_per_week),
        "setup": delivered,
        "notice": delivered,
    }
    return Workload(
        counts={kind: np.asarray(values[warm_up_weeks:]) for kind, values in counts.items()},
        kinds=parameters.kinds,
    )
