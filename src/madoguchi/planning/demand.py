"""Renewal demand: register → expiry cube → renewals per month or ISO week.

The register is scanned **once** into an :class:`ExpiryCube` — counts of expiries by expiry day ×
kind (card / certificate) × age band — and every what-if (take-up, early renewal, post-office share,
another horizon inside the cube) only touches the cube (docs/ARCHITECTURE.md, "planning").

Default semantics (docs/contract.md, "Forecast output"): every expiry inside the horizon is
counted in the period of its expiry date; ``cert_renewals`` counts certificates that expire
strictly before their card — a certificate ending the same day as its card is renewed with the
card and counted once, under ``card_renewals``.

Without a row-level register (a prefecture, the nation), :func:`expiry_cube_from_issue_counts`
builds the same cube from monthly issue counts by age band.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from madoguchi.planning.rules import (
    ADULT_AGE_BEFORE,
    ADULT_AGE_FROM,
    ADULT_CARD_YEARS,
    AGE_THRESHOLD_CHANGED_ON,
    CERT_YEARS,
    KERNEL_BIRTH_CODE,
    KERNEL_BIRTHDAYS,
    KERNEL_DAY_BASE,
    KERNEL_ISSUE_CODE,
    KERNEL_LAST_INDEX,
    KERNEL_MISSING_EXPIRES_FROM,
    KERNEL_SLOT_MASK,
    KERNEL_THRESHOLD_INDEX,
    KERNEL_YEAR_SHIFT,
    MINOR_CARD_YEARS,
    NO_DATE,
    DayArray,
    card_and_cert_expiries,
    date_from_day_number,
    day_number,
)

__all__ = [
    "AGE_BAND_COUNT",
    "AGE_BAND_YEARS",
    "CARD",
    "CERT",
    "DemandForecast",
    "DemandOptions",
    "ExpiryCube",
    "ExpiryCubeBuilder",
    "Period",
    "RegisterColumns",
    "build_expiry_cube",
    "cube_range_for",
    "expiry_cube_from_issue_counts",
    "forecast_demand",
    "horizon_end",
]

AGE_BAND_YEARS: Final = 5
AGE_BAND_COUNT: Final = 21
"""Age bands 0-4, 5-9, …, 95-99 and 100+ (the last band is open)."""
CARD: Final = 0
CERT: Final = 1
_KINDS: Final = 2
_BAND_OF_AGE: Final = np.minimum(np.arange(512) // AGE_BAND_YEARS, AGE_BAND_COUNT - 1).astype(
    np.int32
)
_SLICE_ROWS: Final = 1 << 16  # rows per inner step: temporaries stay in the CPU caches
_SLICES_PER_BINCOUNT: Final = 4
_BINS_PER_DAY: Final = _KINDS * AGE_BAND_COUNT

Period = Literal["month", "week"]
ProgressCallback = Callable[[int], None]
"""Called after each chunk with the number of register rows processed so far."""


@dataclass(frozen=True)
class RegisterColumns:
    """One register (or one chunk of it) as int32 day-number arrays (NO_DATE = empty cell).

    ``card_expires_day`` / ``cert_expires_day`` are the printed expiry dates (None when the
    register has no such column).
    """

    birth_day: DayArray
    card_issued_day: DayArray
    cert_issued_day: DayArray
    card_expires_day: DayArray | None = None
    cert_expires_day: DayArray | None = None

    @property
    def row_count(self) -> int:
        """Number of register rows."""
        return len(self.birth_day)


@dataclass(frozen=True)
class ExpiryCube:
    """Expiry counts by expiry day × kind (:data:`CARD`, :data:`CERT`) × age band.

    ``counts[d, k, b]`` is the number of expiries of kind ``k`` on day ``first_day + d`` of holders
    in age band ``b`` (age reached in the expiry year, 5-year bands, 100+ last). Certificates are
    only counted when they expire strictly before their card (docs/contract.md). Counts are float64
    because cubes from aggregate input carry expected (fractional) counts.
    """

    first_day: int
    counts: npt.NDArray[np.float64]
    rows_scanned: int = 0

    @property
    def last_day(self) -> int:
        """Last expiry day covered (inclusive day number)."""
        return self.first_day + int(self.counts.shape[0]) - 1

    def totals_by_day(self) -> npt.NDArray[np.float64]:
        """Expiries per day and kind, summed over age bands: shape (days, 2)."""
        totals: npt.NDArray[np.float64] = self.counts.sum(axis=2)
        return totals


class ExpiryCubeBuilder:
    """Accumulates register chunks into an :class:`ExpiryCube` covering [first_day, last_day].

    Expiries outside the range are dropped (they do not belong to any forecast made from the cube).
    :meth:`add` may be called from several threads at once (numpy releases the GIL while it works).

    Bins are ``row * 42 + kind * 21 + band`` where row 0 holds expiries before the range, rows
    1..days the range and row days + 1 those after it (and uncounted certificates).
    """

    def __init__(self, *, first_day: int, last_day: int) -> None:
        if last_day < first_day:
            raise ValueError("last_day must not be before first_day")
        self.first_day = first_day
        self.days = last_day - first_day + 1
        self._width = (self.days + 2) * _BINS_PER_DAY
        self._counts = np.zeros(self._width, dtype=np.int64)
        self._lock = threading.Lock()
        self.rows = 0
        # the binned kernel: birthday code → first bin of its cube row (0 / days + 1 outside)
        self._row_bins: npt.NDArray[np.int32] | None = None
        if last_day < KERNEL_MISSING_EXPIRES_FROM:
            rows = np.clip(KERNEL_BIRTHDAYS + (KERNEL_DAY_BASE - first_day + 1), 0, self.days + 1)
            self._row_bins = (rows * _BINS_PER_DAY).astype(np.int32)

    def _index(
        self,
        expiry: DayArray,
        age: npt.NDArray[np.int32],
        kind: int,
        counted: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.int32]:
        # NO_DATE - first_day wraps around to a huge unsigned offset: out of range like the rest
        offset = expiry - np.int32(self.first_day)
        keep = (offset.view(np.uint32) < self.days) & counted
        band = np.take(_BAND_OF_AGE, age, mode="clip")
        index = (offset + 1) * np.int32(_BINS_PER_DAY) + (band + kind * AGE_BAND_COUNT)
        return np.where(keep, index, np.int32(0))

    def _add_general(
        self, chunk: RegisterColumns, part: slice, counts: npt.NDArray[np.int64]
    ) -> None:
        card, cert, card_age, cert_age = card_and_cert_expiries(
            chunk.birth_day[part],
            chunk.card_issued_day[part],
            chunk.cert_issued_day[part],
            None if chunk.card_expires_day is None else chunk.card_expires_day[part],
            None if chunk.cert_expires_day is None else chunk.cert_expires_day[part],
        )
        every = np.ones(len(card), dtype=bool)
        counts += np.bincount(self._index(card, card_age, CARD, every), minlength=self._width)
        # certificates only when they end strictly before their card (or there is no card)
        alone = (cert < card) | (card == NO_DATE)
        counts += np.bincount(self._index(cert, cert_age, CERT, alone), minlength=self._width)

    def _binned(
        self,
        birth: DayArray,
        card_issued: DayArray,
        cert_issued: DayArray,
        out: npt.NDArray[np.int32],
    ) -> bool:
        """Write the card bins then the certificate bins of one slice into ``out`` (2 × rows).

        The same rules as :func:`card_and_cert_expiries` with one gather per date: False (nothing
        written) when a date is outside what the kernel handles (a missing or out-of-range birth,
        an issue date outside the tables) — the caller then takes the general path.
        """
        assert self._row_bins is not None
        u32 = np.uint32
        base = np.int32(KERNEL_DAY_BASE)
        last = u32(KERNEL_LAST_INDEX)
        birth_index = (birth - base).view(u32)
        if birth_index.min() < 1 or birth_index.max() > last:
            return False
        birth_code = np.take(KERNEL_BIRTH_CODE, birth_index, mode="wrap")
        birth_year = birth_code >> KERNEL_YEAR_SHIFT
        slot = birth_code & KERNEL_SLOT_MASK
        del birth_code
        missing = u32(np.int64(NO_DATE) - KERNEL_DAY_BASE + (1 << 32))
        rows = len(birth)
        expiry_bins = []
        for kind, issued in ((CARD, card_issued), (CERT, cert_issued)):
            # a missing date (NO_DATE) becomes the last input day: its expiry lies past the cube
            index = (issued - base).view(u32)
            if index.min() < 1 or index.max() > missing or issued.max() > KERNEL_LAST_INDEX + base:
                return False
            np.minimum(index, last, out=index)
            code = np.take(KERNEL_ISSUE_CODE, index, mode="wrap")
            year = code >> KERNEL_YEAR_SHIFT
            code &= KERNEL_SLOT_MASK
            ahead = code < slot  # this year's birthday is after the issue day
            if kind == CARD:
                age = year - birth_year
                age -= ahead  # age on the issue day
                # adult from 20 before 2022-04-01, from 18 after
                threshold = (index < u32(KERNEL_THRESHOLD_INDEX)) * np.int32(
                    ADULT_AGE_BEFORE - ADULT_AGE_FROM
                )
                threshold += np.int32(ADULT_AGE_FROM)
                years = (age >= threshold) * np.int32(ADULT_CARD_YEARS - MINOR_CARD_YEARS)
                years += np.int32(MINOR_CARD_YEARS)
                year += years
            else:
                year += np.int32(CERT_YEARS)
            year -= ahead  # the expiry year
            band = year - birth_year  # age reached in it
            band //= np.int32(AGE_BAND_YEARS)
            np.minimum(band, np.int32(AGE_BAND_COUNT - 1), out=band)
            np.maximum(band, np.int32(0), out=band)  # as _BAND_OF_AGE (issue before birth)
            year <<= KERNEL_YEAR_SHIFT
            year |= slot
            expiry_bin = np.take(self._row_bins, year, mode="wrap")
            expiry_bins.append(expiry_bin)
            target = out[kind * rows : (kind + 1) * rows]
            np.add(expiry_bin, band, out=target)
            if kind == CERT:
                # certificates only when they end strictly before their card (or there is none):
                # the others go to bin 0
                target += np.int32(AGE_BAND_COUNT)
                target *= expiry_bin < expiry_bins[0]
        return True

    def add(self, chunk: RegisterColumns) -> None:
        """Compute the expiries of one chunk and add them. Raises as the rules functions do."""
        counts = np.zeros(self._width, dtype=np.int64)
        fast = (
            self._row_bins is not None
            and chunk.card_expires_day is None
            and chunk.cert_expires_day is None
        )
        binned = np.empty(2 * _SLICE_ROWS * _SLICES_PER_BINCOUNT if fast else 0, dtype=np.int32)
        filled = 0
        for start in range(0, chunk.row_count, _SLICE_ROWS):
            part = slice(start, start + _SLICE_ROWS)
            rows = len(chunk.birth_day[part])
            if fast and self._binned(
                chunk.birth_day[part],
                chunk.card_issued_day[part],
                chunk.cert_issued_day[part],
                binned[filled : filled + 2 * rows],
            ):
                filled += 2 * rows
                if filled + 2 * _SLICE_ROWS > len(binned):
                    counts += np.bincount(binned[:filled], minlength=self._width)
                    filled = 0
            else:
                self._add_general(chunk, part, counts)
        if filled:
            counts += np.bincount(binned[:filled], minlength=self._width)
        with self._lock:
            self._counts += counts
            self.rows += chunk.row_count

    def cube(self) -> ExpiryCube:
        """Return the cube of everything added so far."""
        inside = self._counts[_BINS_PER_DAY : (self.days + 1) * _BINS_PER_DAY]
        return ExpiryCube(
            first_day=self.first_day,
            counts=inside.astype(np.float64).reshape(self.days, _KINDS, AGE_BAND_COUNT),
            rows_scanned=self.rows,
        )


def build_expiry_cube(
    chunks: Iterable[RegisterColumns],
    *,
    first_day: int,
    last_day: int,
    progress: ProgressCallback | None = None,
    workers: int = 2,
) -> ExpiryCube:
    """Scan register chunks once into an :class:`ExpiryCube` covering [first_day, last_day].

    Chunks are computed on ``workers`` threads while the next chunk is being read. ``progress``
    is called (from this thread, in order) with the rows processed so far. Raises ValueError for
    dates outside the supported years (see :mod:`madoguchi.planning.rules`) and whatever the
    chunk iterator raises.
    """
    builder = ExpiryCubeBuilder(first_day=first_day, last_day=last_day)
    if workers <= 1:
        for chunk in chunks:
            builder.add(chunk)
            if progress is not None:
                progress(builder.rows)
        return builder.cube()
    pending: deque[tuple[Future[None], int]] = deque()
    done_rows = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for chunk in chunks:
                pending.append((pool.submit(builder.add, chunk), chunk.row_count))
                while len(pending) >= workers:
                    future, rows = pending.popleft()
                    future.result()
                    done_rows += rows
                    if progress is not None:
                        progress(done_rows)
            while pending:
                future, rows = pending.popleft()
                future.result()
                done_rows += rows
                if progress is not None:
                    progress(done_rows)
        finally:
            for future, _ in pending:
                future.cancel()
    return builder.cube()


@dataclass(frozen=True)
class DemandOptions:
    """What-if parameters of a forecast (defaults = CONTRACT semantics).

    - ``take_up``: share of expiries that are renewed at all (0..1).
    - ``early_renewal``: weights of renewing 0, 1, 2, … periods (months or weeks, as the forecast)
      before the expiry period; non-negative, summing to 1. ``(1.0,)`` = in the expiry period.
    - ``post_office_share``: share of certificate renewals done at post offices (0..1), reported in
      an extra column; ``cert_renewals`` stays the total.
    """

    take_up: float = 1.0
    early_renewal: tuple[float, ...] = (1.0,)
    post_office_share: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.take_up <= 1.0:
            raise ValueError("take_up must be within 0..1")
        if not 0.0 <= self.post_office_share <= 1.0:
            raise ValueError("post_office_share must be within 0..1")
        weights = np.asarray(self.early_renewal, dtype=np.float64)
        if weights.size == 0 or (weights < 0).any() or abs(weights.sum() - 1.0) > 1e-9:
            raise ValueError("early_renewal weights must be non-negative and sum to 1")


@dataclass(frozen=True)
class DemandForecast:
    """Renewal demand per period. Counts are expected values (float64) — round for display.

    ``period_starts`` are day numbers of each period's first day (the 1st of the month, or the ISO
    week's Monday, which may lie before the horizon start); ``labels`` are ``YYYY-MM`` or the
    Monday's ``YYYY-MM-DD`` (docs/contract.md).
    """

    by: Period
    period_starts: npt.NDArray[np.int32]
    labels: list[str]
    card_renewals: npt.NDArray[np.float64]
    cert_renewals: npt.NDArray[np.float64]
    cert_renewals_at_post_office: npt.NDArray[np.float64]
    options: DemandOptions = field(default_factory=DemandOptions)


def horizon_end(start: dt.date, months: int) -> dt.date:
    """First day after a horizon of ``months`` whole months starting at ``start`` (a 1st)."""
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _check_horizon(start: dt.date, months: int) -> None:
    if start.day != 1:
        raise ValueError("the horizon starts on the first day of a month")
    if months <= 0:
        raise ValueError("months must be > 0")


def _periods(start: dt.date, months: int, by: Period) -> npt.NDArray[np.int64]:
    """Day numbers of period starts, one more than the periods (the end bound)."""
    if by == "month":
        first = np.datetime64(start, "M")
        return np.arange(first, first + months + 1).astype("datetime64[D]").astype(np.int64)
    if by == "week":
        start_day = day_number(start)
        end_day = day_number(horizon_end(start, months))
        monday = start_day - start.weekday()
        return np.arange(monday, end_day + 7, 7, dtype=np.int64)[: (end_day - monday + 6) // 7 + 1]
    raise ValueError(f"unknown period {by!r}: use 'month' or 'week'")


def _extend(bounds: npt.NDArray[np.int64], extra: int, by: Period) -> npt.NDArray[np.int64]:
    if extra == 0:
        return bounds
    if by == "week":
        return np.concatenate([bounds, bounds[-1] + 7 * np.arange(1, extra + 1)])
    last = np.datetime64(date_from_day_number(int(bounds[-1])), "M")
    more = np.arange(last + 1, last + extra + 1).astype("datetime64[D]").astype(np.int64)
    return np.concatenate([bounds, more])


def cube_range_for(
    start: dt.date, months: int, *, by: Period = "month", early_periods: int = 0
) -> tuple[int, int]:
    """Day-number range [first, last] a cube must cover for this forecast.

    ``early_periods`` is the longest early-renewal lead (``len(early_renewal) - 1``). Raises
    ValueError for a bad horizon.
    """
    _check_horizon(start, months)
    bounds = _extend(_periods(start, months, by), early_periods, by)
    return day_number(start), int(bounds[-1]) - 1


def forecast_demand(
    cube: ExpiryCube,
    *,
    start: dt.date,
    months: int,
    by: Period = "month",
    options: DemandOptions | None = None,
) -> DemandForecast:
    """Renewal demand per month or ISO week over ``months`` months from ``start`` (a 1st).

    Only expiries on or after ``start`` count; with ``options.early_renewal`` an expiry ``k``
    periods after a period contributes its weight there, so expiries up to the longest lead past
    the horizon are needed: the cube must cover :func:`cube_range_for` — else ValueError (also for
    a bad horizon or period kind). Week periods are ISO weeks; the first and last may be partial.
    """
    options = options or DemandOptions()
    _check_horizon(start, months)
    weights = np.asarray(options.early_renewal, dtype=np.float64)
    lead = len(weights) - 1
    bounds = _periods(start, months, by)
    periods = len(bounds) - 1
    extended = _extend(bounds, lead, by)
    first_needed, last_needed = cube_range_for(start, months, by=by, early_periods=lead)
    if first_needed < cube.first_day or last_needed > cube.last_day:
        raise ValueError(
            f"the expiry cube covers {date_from_day_number(cube.first_day)}.."
            f"{date_from_day_number(cube.last_day)}, the forecast needs "
            f"{date_from_day_number(first_needed)}..{date_from_day_number(last_needed)}"
        )
    per_day = cube.totals_by_day()
    cumulative = np.vstack([np.zeros((1, _KINDS)), np.cumsum(per_day, axis=0)])
    # only expiries on or after the horizon start count
    edges = np.maximum(extended - cube.first_day, first_needed - cube.first_day)
    by_period = cumulative[edges[1:]] - cumulative[edges[:-1]]  # (periods + lead, kinds)
    # renewals in the expiry period itself: only expiries inside the horizon (a partial last week
    # stops at the horizon end); renewals k ≥ 1 periods early come from wherever the expiry lies
    end_edge = day_number(horizon_end(start, months)) - cube.first_day
    inside = np.minimum(edges[: periods + 1], end_edge)
    own = cumulative[inside[1:]] - cumulative[inside[:-1]]
    early = weights.copy()
    early[0] = 0.0
    demand = own * weights[0]
    if lead:
        for kind in (CARD, CERT):
            demand[:, kind] += np.convolve(by_period[:, kind], early[::-1], mode="valid")[:periods]
    card = demand[:, CARD] * options.take_up
    cert = demand[:, CERT] * options.take_up
    starts = bounds[:-1].astype(np.int32)
    if by == "month":
        labels = [date_from_day_number(int(d)).strftime("%Y-%m") for d in starts]
    else:
        labels = [date_from_day_number(int(d)).isoformat() for d in starts]
    return DemandForecast(
        by=by,
        period_starts=starts,
        labels=labels,
        card_renewals=card,
        cert_renewals=cert,
        cert_renewals_at_post_office=cert * options.post_office_share,
        options=options,
    )


# ---------------------------------------------------------------------------------------------
# Aggregate input: monthly issue counts by age band
# ---------------------------------------------------------------------------------------------

_COMMON_YEAR_MONTH_DAYS: Final = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _adult_share(band: npt.NDArray[np.int64], threshold: int) -> npt.NDArray[np.float64]:
    """Share of a 5-year band at or above ``threshold`` years, ages uniform within the band."""
    low = band * AGE_BAND_YEARS
    return np.clip((low + AGE_BAND_YEARS - threshold) / AGE_BAND_YEARS, 0.0, 1.0)


def expiry_cube_from_issue_counts(
    *,
    first_issue_month: dt.date,
    card_issues: npt.ArrayLike,
    cert_issues: npt.ArrayLike | None = None,
    first_day: int,
    last_day: int,
) -> ExpiryCube:
    """Expected expiry cube from monthly issue counts by age band (no row-level register).

    ``card_issues[m, b]``: cards issued in month ``m`` (``first_issue_month`` + m) to holders in
    age band ``b`` at issue (5-year bands, :data:`AGE_BAND_COUNT` columns). Assumes birthdays
    spread over the year by day and ages uniform within a band (the 18/20 threshold splits the
    15-19 band). Cards run 10 years (adults) or 5 (minors) to the Nth birthday after issue.

    ``cert_issues`` (same shape) are certificates issued in a month whose card outlives them
    (each expires at the 5th birthday after issue and is counted as a certificate renewal).
    When None, certificates issued with the counted cards are derived: those of 10-year cards
    expire at the 5th birthday, before their card; those of 5-year cards end with the card and are
    not counted separately (docs/contract.md).

    Returns a float64 cube over [first_day, last_day]. Raises ValueError on shape or negative
    counts.
    """
    cards = np.asarray(card_issues, dtype=np.float64)
    if cards.ndim != 2 or cards.shape[1] != AGE_BAND_COUNT:
        raise ValueError(f"card_issues must have shape (months, {AGE_BAND_COUNT})")
    certs = None if cert_issues is None else np.asarray(cert_issues, dtype=np.float64)
    if certs is not None and certs.shape != cards.shape:
        raise ValueError("cert_issues must have the shape of card_issues")
    if (cards < 0).any() or (certs is not None and (certs < 0).any()):
        raise ValueError("issue counts must not be negative")
    if last_day < first_day:
        raise ValueError("last_day must not be before first_day")

    first_month = first_issue_month.year * 12 + first_issue_month.month - 1
    threshold_month = AGE_THRESHOLD_CHANGED_ON.year * 12 + AGE_THRESHOLD_CHANGED_ON.month - 1
    last_month_index = first_month + cards.shape[0] + 12 * (ADULT_CARD_YEARS + 1)
    monthly = np.zeros((last_month_index - first_month + 1, _KINDS, AGE_BAND_COUNT))
    birthday_month_share = _COMMON_YEAR_MONTH_DAYS / _COMMON_YEAR_MONTH_DAYS.sum()
    bands = np.arange(AGE_BAND_COUNT, dtype=np.int64)

    def spread(month_index: int, years: int, kind: int, counts: npt.NDArray[np.float64]) -> None:
        # birthdays later in the issue month's year: expiry in year + years - 1, earlier: + years;
        # birthdays in the issue month itself: half each
        shift = years // AGE_BAND_YEARS
        target_band = np.minimum(bands + shift, AGE_BAND_COUNT - 1)
        issue_month0 = month_index % 12
        for birthday_month0 in range(12):
            share = birthday_month_share[birthday_month0]
            year_offsets: Sequence[tuple[int, float]]
            if birthday_month0 > issue_month0:
                year_offsets = ((years - 1, 1.0),)
            elif birthday_month0 < issue_month0:
                year_offsets = ((years, 1.0),)
            else:
                year_offsets = ((years - 1, 0.5), (years, 0.5))
            for offset_years, part in year_offsets:
                target = month_index - issue_month0 + birthday_month0 + 12 * offset_years
                np.add.at(monthly[target - first_month, kind], target_band, counts * share * part)

    for m in range(cards.shape[0]):
        month_index = first_month + m
        threshold = ADULT_AGE_BEFORE if month_index < threshold_month else ADULT_AGE_FROM
        adult = cards[m] * _adult_share(bands, threshold)
        minor = cards[m] - adult
        spread(month_index, ADULT_CARD_YEARS, CARD, adult)
        spread(month_index, MINOR_CARD_YEARS, CARD, minor)
        if certs is None:
            spread(month_index, CERT_YEARS, CERT, adult)
        else:
            spread(month_index, CERT_YEARS, CERT, certs[m])

    # months → days, evenly over the days of each month
    month_starts = (
        (np.arange(first_month, last_month_index + 2) - 1970 * 12)
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    month_of_day = np.searchsorted(month_starts, days, side="right") - 1
    inside = (month_of_day >= 0) & (month_of_day < monthly.shape[0])
    month_of_day = np.clip(month_of_day, 0, monthly.shape[0] - 1)
    lengths = np.diff(month_starts)[month_of_day]
    counts = monthly[month_of_day] / lengths[:, None, None]
    counts[~inside] = 0.0
    return ExpiryCube(first_day=first_day, counts=counts)
