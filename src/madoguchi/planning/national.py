"""The national renewal table from public figures: the engine's aggregate mode at country scale.

There is no national register to read, only published cumulative figures
(`docs/data/national-card-issuance-points.csv` and `national-card-issuance-more-points.csv`).
This module turns them into monthly card issues by age band under written-down assumptions
(`IssuanceAssumptions`; the national table's are :data:`NATIONAL_ASSUMPTIONS`, each with its
source in docs/national-renewals.md), feeds them to `demand.expiry_cube_from_issue_counts`, takes
out the holders who die before their card or certificate expires, and sums the expiries per
fiscal year (April–March) — to set beside the national deck's table.

Pure: numpy and the standard library (the published tables are read with `csv`), like the rest
of the engine.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from madoguchi.planning.demand import AGE_BAND_YEARS, CARD, CERT, expiry_cube_from_issue_counts
from madoguchi.planning.rules import (
    ADULT_AGE_BEFORE,
    ADULT_CARD_YEARS,
    CERT_YEARS,
    MINOR_CARD_YEARS,
    day_number,
)

FIRST_ISSUE_MONTH: Final = dt.date(2016, 1, 1)
"""The My Number Card was first issued in January 2016."""

POPULATION_BY_BAND_MILLIONS: Final = (
    4.54, 5.12, 5.38, 5.62, 6.32, 6.26, 6.71, 7.47, 8.43, 9.79, 8.80,
    7.94, 7.40, 8.23, 9.19, 7.07, 5.41, 3.70, 1.73, 0.49, 0.08,
)  # fmt: skip
"""Japan's population by 5-year age band (0-4 … 95-99, 100+), 2020 census, rounded."""

DEATH_FILES: Final = (
    "deaths-by-10-year-band.csv",
    "death-rates-by-5-year-band-2013.csv",
    "deaths-registered.csv",
)
"""The published mortality figures in `docs/data/` (each row names its source):

- `deaths-by-10-year-band.csv`: deaths and population by 10-year age band, Japan, 2016 and 2021
  (MHLW vital statistics);
- `death-rates-by-5-year-band-2013.csv`: death rates per 100,000 by 5-year band, 2013 (MHLW) —
  the latest 5-year table found in public material; used only for the shape within a 10-year band;
- `deaths-registered.csv`: the deaths registered in 2020 (MHLW, final figures) — the check.

A 2020 table of rates by 5-year band was not found in the public material searched
(docs/national-renewals.md)."""

DEATH_RATES_YEAR: Final = 2021
"""The year whose 10-year-band rates the national table uses: the nearest published one to the
forecast years (2024–2027) found with every band."""


@dataclass(frozen=True)
class TenYearDeaths:
    """Deaths and population of one 10-year age band (`age_to` None: the open top band)."""

    year: int
    age_from: int
    age_to: int | None
    population_thousands: float
    deaths: float

    @property
    def rate_per_100k(self) -> float:
        return self.deaths / (self.population_thousands * 1e3) * 1e5


def read_ten_year_deaths(path: Path) -> list[TenYearDeaths]:
    """The rows of `deaths-by-10-year-band.csv`."""
    with path.open(encoding="utf-8", newline="") as f:
        return [
            TenYearDeaths(
                int(r["year"]),
                int(r["age_from"]),
                int(r["age_to"]) if r["age_to"] else None,
                float(r["population_thousands"]),
                float(r["deaths"]),
            )
            for r in csv.DictReader(f)
        ]


def read_five_year_rates(path: Path) -> tuple[float, ...]:
    """The rates of `death-rates-by-5-year-band-2013.csv`, youngest band first."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["age_from"]))
    return tuple(float(r["rate_per_100k"]) for r in rows)


def read_registered_deaths(path: Path) -> dict[int, int]:
    """Deaths registered per year, from `deaths-registered.csv`."""
    with path.open(encoding="utf-8", newline="") as f:
        return {int(r["year"]): int(r["deaths"]) for r in csv.DictReader(f)}


def death_rates_by_band(
    ten_year: Sequence[TenYearDeaths],
    five_year_shape: Sequence[float],
    *,
    population: Sequence[float] = POPULATION_BY_BAND_MILLIONS,
) -> tuple[float, ...]:
    """Yearly deaths per 100,000 by 5-year band (0-4 … 95-99, 100+) from one year's 10-year
    bands: each 10-year band's published rate is split over its two 5-year bands in the ratio of
    `five_year_shape` (an older 5-year table), weighted by `population` so that the two together
    keep the published rate. The open top band (100+) is taken as published.

    Raises ValueError when the bands do not cover 0–99 in tens plus 100+.
    """
    bands = sorted(ten_year, key=lambda b: b.age_from)
    if [b.age_from for b in bands] != list(range(0, 101, 10)) or bands[-1].age_to is not None:
        raise ValueError("10-year bands 0-9 … 90-99 and an open 100+ band are needed")
    if len(five_year_shape) != len(population) or len(population) != 2 * (len(bands) - 1) + 1:
        raise ValueError("the 5-year shape and population must have 21 bands (0-4 … 100+)")
    rates: list[float] = []
    for k, band in enumerate(bands[:-1]):
        low, high = 2 * k, 2 * k + 1
        weighted = population[low] * five_year_shape[low] + population[high] * five_year_shape[high]
        scale = band.rate_per_100k * (population[low] + population[high]) / weighted
        rates += [five_year_shape[low] * scale, five_year_shape[high] * scale]
    rates.append(bands[-1].rate_per_100k)
    return tuple(rates)


def read_death_rates(data_dir: Path, *, year: int = DEATH_RATES_YEAR) -> tuple[float, ...]:
    """:func:`death_rates_by_band` of `year`'s published 10-year bands in `data_dir`."""
    ten_year = [b for b in read_ten_year_deaths(data_dir / DEATH_FILES[0]) if b.year == year]
    return death_rates_by_band(ten_year, read_five_year_rates(data_dir / DEATH_FILES[1]))


DECK_TABLE: Final[Mapping[int, tuple[float, float]]] = {
    2024: (2.8, 6.9),
    2025: (12.0, 15.8),
    2026: (5.9, 14.3),
    2027: (7.1, 21.0),
}
"""The national deck's expected renewals by fiscal year, millions: (cards, e-certificates)."""


@dataclass(frozen=True)
class IssuancePoint:
    """One published figure: `kind` is issued (cumulative, handed over), applications
    (cumulative), held, issued_in_month, or produced (cumulative cards produced — or sent to the
    municipalities, which they were after production — a card's validity counts from its
    production, docs/national-renewals.md)."""

    on: dt.date
    figure: float
    kind: str


PUBLISHED_POINTS: Final = (
    IssuancePoint(dt.date(2016, 3, 27), 2_040_000, "issued"),
    IssuancePoint(dt.date(2019, 7, 1), 17_270_000, "issued"),
    IssuancePoint(dt.date(2021, 2, 1), 31_980_527, "issued"),
    IssuancePoint(dt.date(2021, 4, 1), 35_792_714, "issued"),
    IssuancePoint(dt.date(2021, 10, 1), 48_700_000, "issued"),
    IssuancePoint(dt.date(2023, 3, 31), 84_399_025, "issued"),
    IssuancePoint(dt.date(2023, 4, 9), 96_342_452, "applications"),
    IssuancePoint(dt.date(2024, 3, 31), 92_150_000, "held"),
    IssuancePoint(dt.date(2025, 4, 30), 97_990_000, "held"),
    IssuancePoint(dt.date(2025, 7, 31), 98_520_000, "held"),
    IssuancePoint(dt.date(2023, 3, 1), 4_400_000, "issued_in_month"),
)
"""The figures of `docs/data/national-card-issuance-points.csv` (a test holds them equal), for
code that runs without the docs: the synthetic registers take their issue months from them."""


def issue_rate_by_age(
    until: dt.date, *, assumptions: IssuanceAssumptions | None = None
) -> npt.NDArray[np.float64]:
    """Cards issued per resident per month, by month from January 2016 to `until` (exclusive)
    and 5-year age band (the band's population as the denominator): the national waves, per
    capita, from :data:`PUBLISHED_POINTS`."""
    monthly = reconstruct_monthly_issues(PUBLISHED_POINTS, until=until, assumptions=assumptions)
    population = np.asarray(POPULATION_BY_BAND_MILLIONS) * 1e6
    by_band = issues_by_band(monthly, assumptions=assumptions)
    rate: npt.NDArray[np.float64] = by_band / population
    return rate


@dataclass(frozen=True)
class IssuanceAssumptions:
    """What the sparse public figures do not say, each a number someone can argue with.

    - `applications_at_first_point`: applications received by the first `issued` point (9.42M by
      March 2016, in that point's note); those not yet issued (the 2016 backlog) are issued from
      then on, front-loaded with an e-folding time of `backlog_decay_months`.
    - `trickle_slope`: new applications between the backlog and the next `issued` point arrive
      at a rate rising linearly to this multiple of its start.
    - `campaign_weights`: relative monthly weights of issuance between two `issued` points, from
      the given month on (the 2020 special payment and first point campaign, the second point
      campaign of 2022–23); months not listed weigh 1.
    - `minor_uptake`: uptake among under-20s relative to their population share, by the month
      it starts to apply (early years low; campaign years high).
    - `attrition_per_year`: cards leaving use (deaths, returns) per year, as a share of cards
      held — turns `held` figures into cumulative issues.
    - `death_rates_per_100k`: yearly death rates by 5-year age band; a holder who dies before
      the card or certificate expires renews nothing. None: nobody dies (the synthetic
      registers, which draw their own residents, use it so).
    - `production_lead_months`: cards are taken as produced this many months before their
      handover, the `produced` points bounding it from below (0: the same month — the national
      table; a sensitivity only, no figure gives it).
    - `stay_limited_cards_millions`: foreign residents' cards whose validity ends with their
      period of stay (every status but permanent and special permanent residents), held at any
      time; each such card reaches its expiry once every `period_of_stay_years` and is renewed
      then (0: none — the synthetic registers, whose residents have no status of residence).
    """

    applications_at_first_point: float = 9.42e6
    backlog_decay_months: float = 1.5
    trickle_slope: float = 2.0
    campaign_weights: Mapping[dt.date, float] = field(
        default_factory=lambda: {
            dt.date(2020, 5, 1): 2.5,
            dt.date(2022, 1, 1): 1.5,
            dt.date(2022, 6, 1): 2.5,
            dt.date(2022, 9, 1): 3.5,
            dt.date(2022, 11, 1): 4.0,
        }
    )
    minor_uptake: Mapping[dt.date, float] = field(
        default_factory=lambda: {
            dt.date(2016, 1, 1): 0.8,
            dt.date(2019, 7, 1): 2.0,
            dt.date(2021, 10, 1): 1.2,
        }
    )
    attrition_per_year: float = 0.012
    death_rates_per_100k: tuple[float, ...] | None = None
    production_lead_months: int = 0
    stay_limited_cards_millions: float = 0.0
    period_of_stay_years: float = 2.0


MINORS_BELOW_RATE_2021: Final = (0.20, 0.283)
"""Published on 2021-04-01: every under-20 band had cards for fewer than 20% of its people while
all ages had 28.3% (MIC's figures by age, as reported then) — minors' uptake was at most
0.2 / 0.283 ≈ 0.71 of the average. A test holds :data:`NATIONAL_ASSUMPTIONS` to it."""

NATIONAL_ASSUMPTIONS: Final = IssuanceAssumptions(
    minor_uptake={dt.date(2016, 1, 1): 0.6, dt.date(2021, 4, 1): 0.9},
)
"""The base of the national table's assumptions (docs/national-renewals.md): minors' uptake
below 0.71 of the average until April 2021 (:data:`MINORS_BELOW_RATE_2021`); the 0.9 from April
2021 is the earlier guess, kept as the control — :func:`national_assumptions` replaces it by the
least the published 2023 rates allow and adds the holders' deaths and the foreign residents'
stay-limited cards read from docs/data."""


MINORS_HELD_AT_LEAST_2023: Final = (dt.date(2023, 7, 31), 0.652)
"""Published for 31 July 2023 (MIC's holding rates by age, as reported then): the 0-4 band held
cards at 54.1 % (the lowest), 80+ at 65.2 % (the next lowest), 75-79 at 81.7 % (the highest),
all ages 71.0 % — so every band from 5-9 to 75-79, the minors' 5-9, 10-14 and 15-19 among them,
held at least 65.2 %. :func:`minors_uptake_from_2023_rates` takes the under-20s' uptake from
April 2021 on as the smallest that meets it."""

UPTAKE_FROM_2021: Final = dt.date(2021, 4, 1)
"""The month from which the under-20s' uptake is the one the April 2022 rates give: the
published rates of April 2021 bound the uptake before it (:data:`MINORS_BELOW_RATE_2021`)."""

MINORS_ISSUED_OVER_2022: Final = (dt.date(2022, 4, 1), 0.35)
"""Published for 1 April 2022 (MIC's issue rates by age, as reported then): of the four under-20
bands, all but 0-4 had cards issued to more than 35 % of their people (all ages 43.3 %). An issue
rate (交付枚数率), not a holding rate: cumulative cards handed over, the expired and the holders
who died included (MIC published holding rates, 保有枚数率, only from June 2023) — so it is read
with :func:`issue_rate_by_band`. :func:`minors_uptake_from_2022_rates` takes the under-20s'
uptake from April 2021 to March 2022 as the smallest that meets it."""

UPTAKE_FROM_2022: Final = dt.date(2022, 4, 1)
"""The month from which the under-20s' uptake is the one the July 2023 rates give
(:data:`MINORS_HELD_AT_LEAST_2023`), the April 2022 rates having set the year before it."""

FOREIGN_RESIDENTS_FILE: Final = "foreign-residents.csv"
"""Foreign residents holding a card and residents by status (docs/data, each row its source)."""


def read_foreign_residents(path: Path) -> dict[str, float]:
    """The figures of `foreign-residents.csv` by name."""
    with path.open(encoding="utf-8", newline="") as f:
        return {r["figure"]: float(r["value"]) for r in csv.DictReader(f)}


def stay_limited_cards(figures: Mapping[str, float]) -> float:
    """Foreign residents' cards whose validity ends with the period of stay, millions: the
    holders, times the share of foreign residents who are neither permanent nor special
    permanent residents (their cards run like everyone's) — the same holding rate taken for
    every status, as no holding figure by status was found."""
    residents = figures["foreign_residents"]
    limited = residents - figures["permanent_residents"] - figures["special_permanent_residents"]
    return figures["foreign_card_holders"] * limited / residents / 1e6


def issue_rate_by_band(
    points: Sequence[IssuancePoint], on: dt.date, *, assumptions: IssuanceAssumptions
) -> npt.NDArray[np.float64]:
    """Cards handed over by `on` per resident, by the 5-year age band their holders have reached
    by then — MIC's issue rate by age (交付枚数率): every card issued counts, the expired minors'
    cards and those of holders who died included, as :func:`holding_rate_by_band` without its
    deductions."""
    return holding_rate_by_band(points, on, assumptions=assumptions, deductions=False)


def holding_rate_by_band(
    points: Sequence[IssuancePoint],
    on: dt.date,
    *,
    assumptions: IssuanceAssumptions,
    deductions: bool = True,
) -> npt.NDArray[np.float64]:
    """Cards held on `on` per resident, by 5-year age band (the band reached by then), from the
    reconstructed issues: each month's issues age with their holders (ages uniform within the
    band at issue), and an under-20's 5-year card issued more than five years before is gone
    (its renewal is among the later issues). With `death_rates_per_100k` the holders who died
    since are taken out (:func:`survival_by_band` over the whole years passed); the denominators
    are :data:`POPULATION_BY_BAND_MILLIONS`."""
    monthly = reconstruct_monthly_issues(points, until=on.replace(day=1), assumptions=assumptions)
    by_band = issues_by_band(monthly, assumptions=assumptions)
    count = len(POPULATION_BY_BAND_MILLIONS)
    minor_bands = ADULT_AGE_BEFORE // AGE_BAND_YEARS
    now = _month(on) + on.day / 31
    held = np.zeros(count)
    starts = np.arange(count) * AGE_BAND_YEARS
    ends = (starts + AGE_BAND_YEARS).astype(np.float64)
    ends[-1] = np.inf  # the open top band
    rates = assumptions.death_rates_per_100k if deductions else None
    for m, issues in enumerate(by_band):
        years = (now - m - 0.5) / 12
        if rates is not None:
            issues = issues * survival_by_band(round(years), rates)
        for band in range(count):
            expired = deductions and band < minor_bands and years > MINOR_CARD_YEARS
            if issues[band] == 0 or expired:
                continue
            low = band * AGE_BAND_YEARS + years
            overlap = np.clip(
                np.minimum(low + AGE_BAND_YEARS, ends) - np.maximum(low, starts), 0, None
            )
            held += issues[band] * overlap / AGE_BAND_YEARS
    rate: npt.NDArray[np.float64] = held / (np.asarray(POPULATION_BY_BAND_MILLIONS) * 1e6)
    return rate


def _least_uptake(meets: Callable[[float], bool], what: str) -> float:
    """The smallest uptake (rounded up to 0.01) in [0, 3] for which `meets` holds; `meets`
    grows with the uptake. Raises ValueError when even 3.0 does not meet it."""
    low, high = 0.0, 3.0
    if not meets(high):
        raise ValueError(f"no under-20s' uptake up to 3.0 meets the published {what}")
    while high - low > 0.005:
        middle = (low + high) / 2
        if meets(middle):
            high = middle
        else:
            low = middle
    return float(np.ceil(high * 100) / 100)


def _with_uptake(base: IssuanceAssumptions, since: dt.date, uptake: float) -> IssuanceAssumptions:
    """`base` with the under-20s' `uptake` from `since` on (its uptakes before `since` kept)."""
    before = {d: u for d, u in base.minor_uptake.items() if d < since}
    return replace(base, minor_uptake={**before, since: uptake})


def minors_uptake_from_2022_rates(
    points: Sequence[IssuancePoint], *, base: IssuanceAssumptions = NATIONAL_ASSUMPTIONS
) -> float:
    """The smallest under-20s' uptake from April 2021 on (to 0.01) with which the 5-9, 10-14 and
    15-19 bands had cards issued to at least the published share by 1 April 2022
    (:data:`MINORS_ISSUED_OVER_2022`, an issue rate: :func:`issue_rate_by_band`); the uptake
    before April 2021 stays `base`'s. Raises ValueError when even 3.0 does not reach it."""
    on, least = MINORS_ISSUED_OVER_2022
    minor_bands = slice(1, ADULT_AGE_BEFORE // AGE_BAND_YEARS)

    def meets(uptake: float) -> bool:
        trial = _with_uptake(base, UPTAKE_FROM_2021, uptake)
        return float(issue_rate_by_band(points, on, assumptions=trial)[minor_bands].min()) >= least

    return _least_uptake(meets, "rates of April 2022")


def minors_uptake_from_2023_rates(
    points: Sequence[IssuancePoint],
    *,
    base: IssuanceAssumptions = NATIONAL_ASSUMPTIONS,
    since: dt.date = UPTAKE_FROM_2022,
) -> float:
    """The smallest under-20s' uptake from `since` on (to 0.01) with which the 5-9, 10-14
    and 15-19 bands hold at least the published share on 31 July 2023
    (:data:`MINORS_HELD_AT_LEAST_2023`); the uptake before `since` stays `base`'s. Raises
    ValueError when even 3.0 does not reach it."""
    on, least = MINORS_HELD_AT_LEAST_2023
    minor_bands = slice(1, ADULT_AGE_BEFORE // AGE_BAND_YEARS)

    def meets(uptake: float) -> bool:
        trial = _with_uptake(base, since, uptake)
        return (
            float(holding_rate_by_band(points, on, assumptions=trial)[minor_bands].min()) >= least
        )

    return _least_uptake(meets, "rates of July 2023")


def read_points(path: Path) -> list[IssuancePoint]:
    """The rows of one of the `docs/data/national-card-*.csv` files."""
    with path.open(encoding="utf-8", newline="") as f:
        return [
            IssuancePoint(dt.date.fromisoformat(r["date"]), float(r["figure"]), r["kind"])
            for r in csv.DictReader(f)
        ]


HANDOVER_FILES: Final = (
    "national-card-issuance-points.csv",
    "national-card-issuance-more-points.csv",
)
"""The published cumulative handovers (and held cards) the table reconstructs from."""


def national_assumptions(data_dir: Path) -> IssuanceAssumptions:
    """:data:`NATIONAL_ASSUMPTIONS` with what `data_dir` (docs/data) gives: the death rates, the
    under-20s' uptake from April 2021 on that the published 2023 rates by age require, and the
    foreign residents' cards that end with the period of stay."""
    points = [p for name in HANDOVER_FILES for p in read_points(data_dir / name)]
    from_2021 = _with_uptake(
        NATIONAL_ASSUMPTIONS, UPTAKE_FROM_2021, minors_uptake_from_2022_rates(points)
    )
    from_2022 = _with_uptake(
        from_2021, UPTAKE_FROM_2022, minors_uptake_from_2023_rates(points, base=from_2021)
    )
    return replace(
        NATIONAL_ASSUMPTIONS,
        death_rates_per_100k=read_death_rates(data_dir),
        minor_uptake=from_2022.minor_uptake,
        stay_limited_cards_millions=stay_limited_cards(
            read_foreign_residents(data_dir / FOREIGN_RESIDENTS_FILE)
        ),
    )


def survival_by_band(years: int, death_rates_per_100k: Sequence[float]) -> npt.NDArray[np.float64]:
    """Share of holders in each 5-year age band at issue still alive `years` later.

    Ages are uniform within a band (the mean 2.5 years above its start); in year y of the term a
    holder is in the band reached at that year's middle, and dies at that band's rate.
    """
    rates = np.asarray(death_rates_per_100k, dtype=np.float64) / 1e5
    last = len(rates) - 1
    alive = np.ones(len(rates))
    for band in range(len(rates)):
        for year in range(years):
            alive[band] *= 1.0 - rates[min(band + (year + 3) // 5, last)]
    return alive


def _month(on: dt.date) -> int:
    return (on.year - FIRST_ISSUE_MONTH.year) * 12 + on.month - 1


def _month_of_point(on: dt.date) -> int:
    """The months a cumulative figure at `on` covers: through `on`'s month from the 15th on
    (a figure of 27 March counts March), else through the month before."""
    return _month(on) + (1 if on.day >= 15 else 0)


def reconstruct_monthly_issues(
    points: Sequence[IssuancePoint],
    *,
    until: dt.date,
    assumptions: IssuanceAssumptions | None = None,
) -> npt.NDArray[np.float64]:
    """Cards issued per month from January 2016 to `until` (exclusive), in millions.

    Every cumulative `issued` point is met exactly; `held` points after the last `issued` one
    become cumulative issues through `attrition_per_year`; an `issued_in_month` point fixes its
    month. Raises ValueError when the points are not increasing.
    """
    a = assumptions or IssuanceAssumptions()
    months = _month(until)
    issued = sorted((p for p in points if p.kind == "issued"), key=lambda p: p.on)
    if not issued:
        raise ValueError("at least one cumulative 'issued' point is needed")
    last_issued = issued[-1]
    anchors = [(0, 0.0)] + [(_month_of_point(p.on), p.figure / 1e6) for p in issued]
    held = sorted(
        (p for p in points if p.kind == "held" and p.on > last_issued.on), key=lambda p: p.on
    )
    for point in held:
        years = (point.on - FIRST_ISSUE_MONTH).days / 365.25
        # cards issued ≈ held + those gone; the gone grow with the held base over the years
        gone = point.figure / 1e6 * a.attrition_per_year * years / 2
        anchors.append((_month_of_point(point.on), point.figure / 1e6 + gone))
    fixed = {_month(p.on): p.figure / 1e6 for p in points if p.kind == "issued_in_month"}
    monthly = np.zeros(months)
    for (start, low), (end, high) in itertools.pairwise(anchors):
        end = min(end, months)
        if end <= start:
            if high < low:
                raise ValueError("cumulative figures must not decrease")
            continue
        total = high - low
        if total < 0:
            raise ValueError("cumulative figures must not decrease")
        span = end - start
        weights = np.ones(span)
        for on, weight in sorted(a.campaign_weights.items()):
            first = _month(on) - start
            if 0 <= first < span:
                weights[first:] = weight
        pinned = {m - start: v for m, v in fixed.items() if start <= m < end}
        free = [i for i in range(span) if i not in pinned]
        rest = total - sum(pinned.values())
        if start == 0:
            # the first quarter ramps up; the rest waits for the next segment's backlog
            weights = np.linspace(0.5, 1.5, span)
        elif start == anchors[1][0]:
            backlog = a.applications_at_first_point / 1e6 - low
            decay = np.exp(-np.arange(span) / a.backlog_decay_months)
            trickle = np.linspace(1.0, a.trickle_slope, span)
            backlog = min(max(backlog, 0.0), rest)
            part = backlog * decay / decay.sum() + (rest - backlog) * trickle / trickle.sum()
            monthly[start:end] = part
            continue
        share = weights[free] / weights[free].sum()
        monthly[start:end][free] = rest * share
        for i, value in pinned.items():
            monthly[start + i] = value
    if anchors[-1][0] < months:
        tail = anchors[-1][0]
        monthly[tail:] = monthly[max(tail - 12, 0) : tail].mean() if tail else 0.0
    return monthly


def production_by_month(
    points: Sequence[IssuancePoint], handed_over: npt.NDArray[np.float64], *, lead_months: int = 0
) -> npt.NDArray[np.float64]:
    """Cards produced per month (millions) from the monthly handovers and the `produced` points.

    A card's validity counts from its production (the expiry is printed on it), and in 2016
    production ran months ahead of the handover. At each month start the cumulative production
    is the `produced` points' figure interpolated by day (from zero on 1 January 2016; after the
    last point, that point's figure), or the cumulative handovers when they are higher — cards
    produced after the last point are dated when the handovers pass it. Without `produced`
    points and lead: the handovers unchanged. With `lead_months`, the cards handed over in a month
    were produced that many months before (the last month repeats at the end); the `produced`
    points still bound it from below. Raises ValueError when the points decrease or the lead
    is negative.
    """
    if lead_months < 0:
        raise ValueError("the production lead must not be negative")
    if lead_months:
        handed_over = np.concatenate(
            [handed_over[lead_months:], np.repeat(handed_over[-1:], lead_months)]
        )
    produced = sorted((p for p in points if p.kind == "produced"), key=lambda p: p.on)
    if not produced:
        return handed_over
    days = [0] + [(p.on - FIRST_ISSUE_MONTH).days for p in produced]
    figures = [0.0] + [p.figure / 1e6 for p in produced]
    if any(high < low for low, high in itertools.pairwise(figures)):
        raise ValueError("cumulative figures must not decrease")
    handed = np.concatenate([[0.0], np.cumsum(handed_over)])
    starts = [
        (dt.date(FIRST_ISSUE_MONTH.year + m // 12, m % 12 + 1, 1) - FIRST_ISSUE_MONTH).days
        for m in range(len(handed))
    ]
    made = np.maximum(handed, np.interp(starts, days, figures))
    production: npt.NDArray[np.float64] = np.diff(made)
    return production


def issues_by_band(
    monthly_millions: npt.NDArray[np.float64], *, assumptions: IssuanceAssumptions | None = None
) -> npt.NDArray[np.float64]:
    """Monthly issues (cards, not millions) split over the age bands by population, with the
    under-20 bands weighted by `minor_uptake`."""
    a = assumptions or IssuanceAssumptions()
    population = np.asarray(POPULATION_BY_BAND_MILLIONS)
    uptake = sorted((_month(on), value) for on, value in a.minor_uptake.items())
    out = np.zeros((len(monthly_millions), len(population)))
    for m, total in enumerate(monthly_millions):
        factor = 1.0
        for start, value in uptake:
            if m >= start:
                factor = value
        weights = population.copy()
        weights[:4] *= factor
        out[m] = total * 1e6 * weights / weights.sum()
    return out


@dataclass(frozen=True)
class FiscalYearRenewals:
    fiscal_year: int
    cards: float  # millions
    certs: float


def renewals_by_fiscal_year(
    points: Sequence[IssuancePoint],
    fiscal_years: Sequence[int],
    *,
    assumptions: IssuanceAssumptions | None = None,
) -> list[FiscalYearRenewals]:
    """Card and certificate expiries per fiscal year (millions), from the reconstructed issues.

    With `death_rates_per_100k`, a card counts only when its holder is alive at its expiry (10
    years for adults; 5 for the under-20 bands, whose cards run 5 years) and a certificate when
    the holder is alive at its 5-year expiry. With `produced` points a card's validity counts
    from its production month (:func:`production_by_month`), else from its handover.
    """
    periods = [(dt.date(fy, 4, 1), dt.date(fy + 1, 4, 1)) for fy in fiscal_years]
    totals = renewals_in_periods(points, periods, assumptions=assumptions)
    return [
        FiscalYearRenewals(fy, cards, certs)
        for fy, (cards, certs) in zip(fiscal_years, totals, strict=True)
    ]


def renewals_in_periods(
    points: Sequence[IssuancePoint],
    periods: Sequence[tuple[dt.date, dt.date]],
    *,
    assumptions: IssuanceAssumptions | None = None,
) -> list[tuple[float, float]]:
    """(cards, certificates) expiring in each period [start, end), millions; as
    :func:`renewals_by_fiscal_year`."""
    a = assumptions or IssuanceAssumptions()
    first = min(start for start, _ in periods)
    until = max(end for _, end in periods)
    until_month = dt.date(until.year + (until.month == 12), until.month % 12 + 1, 1)
    monthly = production_by_month(
        points,
        reconstruct_monthly_issues(points, until=until_month, assumptions=a),
        lead_months=a.production_lead_months,
    )
    first_day = day_number(first)
    last_day = day_number(until) - 1
    by_band = issues_by_band(monthly, assumptions=a)

    def per_day(issues: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return expiry_cube_from_issue_counts(
            first_issue_month=FIRST_ISSUE_MONTH,
            card_issues=issues,
            first_day=first_day,
            last_day=last_day,
        ).totals_by_day()

    if a.death_rates_per_100k is None:
        cards = certs = per_day(by_band)
    else:
        card_alive = survival_by_band(ADULT_CARD_YEARS, a.death_rates_per_100k)
        minor_bands = ADULT_AGE_BEFORE // AGE_BAND_YEARS
        card_alive[:minor_bands] = survival_by_band(MINOR_CARD_YEARS, a.death_rates_per_100k)[
            :minor_bands
        ]
        cards = per_day(by_band * card_alive)
        certs = per_day(by_band * survival_by_band(CERT_YEARS, a.death_rates_per_100k))
    out = []
    # foreign residents' cards ending with the period of stay: evenly over the days
    stay_per_day = a.stay_limited_cards_millions / a.period_of_stay_years / 365.25
    for start, end in periods:
        lo, hi = day_number(start) - first_day, day_number(end) - first_day
        out.append(
            (
                float(cards[lo:hi, CARD].sum() / 1e6) + stay_per_day * (hi - lo),
                float(certs[lo:hi, CERT].sum() / 1e6),
            )
        )
    return out
