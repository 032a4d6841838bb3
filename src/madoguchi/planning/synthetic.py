"""Synthetic registers: clearly fictitious people whose dates look like Japan's.

Used by the demo city, by tests and by the national benchmark. Nothing here describes a real person:
birth dates follow a coarse age pyramid, card holding a coarse age profile, and card issue dates the
shape of the national issuance waves (slow start in 2016, the 2020–21 and 2022–23 point campaigns,
the December 2024 health-insurance switch). All shares below are approximations for plausibility,
not statistics to quote.

Output is deterministic for a given ``(people, seed, as_of, chunk_rows)``: chunk ``i`` draws from
``numpy.random.default_rng([seed, i])``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from madoguchi.planning.national import (
    FIRST_ISSUE_MONTH,
    IssuanceAssumptions,
    issue_rate_by_age,
)
from madoguchi.planning.rules import (
    NO_DATE,
    DayArray,
    card_expiry_days,
    cert_expiry_days,
    day_number,
)

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "SyntheticRegister",
    "generate_synthetic_register",
    "iter_synthetic_register",
]

DEFAULT_CHUNK_ROWS: Final = 1_000_000

# Japan's population by 5-year age band, in percent (approximation of the mid-2020s pyramid).
# Bands: 0-4, 5-9, …, 95-99, 100-104.
_AGE_BAND_SHARES_PERCENT: Final = np.array(
    [
        *(3.4, 3.9, 4.3, 4.5, 5.0, 5.2, 5.1, 5.6, 6.2, 7.3, 7.9, 6.8, 6.2, 6.0, 7.3, 6.3, 4.9),
        *(3.4, 1.7, 0.5, 0.07),
    ]
)
_AGE_BAND_YEARS: Final = 5

# Probability of holding a card, by the same age bands (approximation: lower for the very young
# and the very old; about 79% overall as in July 2025).
_CARD_HOLDING_BY_BAND: Final = np.array(
    [
        *(0.60, 0.74, 0.76, 0.78, 0.80, 0.80, 0.80, 0.81, 0.81, 0.81, 0.81, 0.82, 0.82, 0.83),
        *(0.84, 0.82, 0.77, 0.68, 0.58, 0.50, 0.45),
    ]
)

_MAX_AGE_YEARS: Final = 110

# The national reconstruction's assumptions, but with minors' uptake kept high after October
# 2021. In the aggregate, uptake decides how many of all issues went to minors; here it decides
# WHEN a minor who holds a card got it (each age's months are normalised). Calibrated (like the
# national table, docs/national-renewals.md): with it the register of 2025-04-01 forecasts
# FY2025–FY2027 renewals per resident within 15% of the national table ÷ 124M (a test holds it).
_REGISTER_ASSUMPTIONS: Final = IssuanceAssumptions(
    minor_uptake={dt.date(2016, 1, 1): 0.8, dt.date(2019, 7, 1): 2.0, dt.date(2021, 10, 1): 2.0}
)

_CERT_WITH_CARD_SHARE: Final = 1.0  # cards issued with e-certificates (as the national table)
_CARD_RENEWAL_SHARE: Final = 0.95  # expired cards that were renewed
_CERT_RENEWAL_SHARE: Final = 0.90  # expired certificates that were renewed
_CARD_RENEWAL_LEAD_DAYS: Final = 90  # renewed cards are produced up to this long before expiry
_CERT_RENEWAL_LAG_DAYS: Final = 60  # certificates renewed up to this long after expiry
_MIN_AGE_AT_ISSUE_DAYS: Final = 30


@dataclass(frozen=True)
class SyntheticRegister:
    """A synthetic register: int32 day-number arrays (days since 1970-01-01, NO_DATE = none).

    ``card_issued_day`` is the current card's issue date; ``cert_issued_day`` the current
    certificate's. No printed expiry dates: they follow from :mod:`madoguchi.planning.rules`.
    """

    birth_day: DayArray
    card_issued_day: DayArray
    cert_issued_day: DayArray
    person_count: int

    def dates(self) -> dict[str, npt.NDArray[np.datetime64]]:
        """Return the columns as ``datetime64[D]`` arrays (NaT = none), keyed by CONTRACT name."""
        out: dict[str, npt.NDArray[np.datetime64]] = {}
        for name, days in (
            ("birth_date", self.birth_day),
            ("card_issued_on", self.card_issued_day),
            ("cert_issued_on", self.cert_issued_day),
        ):
            values = days.astype("datetime64[D]")
            values[days == NO_DATE] = np.datetime64("NaT")
            out[name] = values
        return out


@functools.lru_cache(maxsize=8)
def _issue_month_table(
    as_of: dt.date,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Month starts (day numbers) from January 2016 through ``as_of``'s month, their lengths,
    and for each age in whole years at ``as_of`` (0 … 109) the cumulative distribution of the
    month a card was issued: the national per-capita issue rate of the age band the person was
    in that month (:func:`madoguchi.planning.national.issue_rate_by_age`), zero before birth.
    Row ``a`` of the table is offset by ``a`` so all rows search as one sorted array."""
    first = np.datetime64(FIRST_ISSUE_MONTH, "M")
    last = np.datetime64(as_of, "M")
    months = np.arange(first, last + 1)
    if months.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty((_MAX_AGE_YEARS, 0))
    starts = months.astype("datetime64[D]").astype(np.int64)
    lengths = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(
        np.int64
    )
    until = (last + 1).astype("datetime64[D]").astype(dt.date)
    rate = issue_rate_by_age(until, assumptions=_REGISTER_ASSUMPTIONS)  # (months, bands)
    years_before = (months.size - 1 - np.arange(months.size)) / 12.0  # months before as_of
    age_then = np.arange(_MAX_AGE_YEARS)[:, None] + 0.5 - years_before[None, :]
    band = np.clip((age_then // _AGE_BAND_YEARS).astype(np.int64), 0, rate.shape[1] - 1)
    weights = np.where(age_then >= 0, rate[np.arange(months.size)[None, :], band], 0.0)
    weights[weights.sum(axis=1) == 0, -1] = 1.0  # born this month: issued this month
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    return starts, lengths, cdf + np.arange(_MAX_AGE_YEARS)[:, None]


def _chunk(rows: int, rng: np.random.Generator, as_of: dt.date) -> SyntheticRegister:
    today = day_number(as_of)
    shares = _AGE_BAND_SHARES_PERCENT / _AGE_BAND_SHARES_PERCENT.sum()
    band = rng.choice(len(shares), size=rows, p=shares)
    age_days = (band + rng.random(rows)) * (_AGE_BAND_YEARS * 365.2425)
    birth = (today - age_days.astype(np.int64)).astype(np.int32)

    holds = rng.random(rows) < _CARD_HOLDING_BY_BAND[band]
    month_starts, month_lengths, cdf = _issue_month_table(as_of)
    card = np.full(rows, NO_DATE, dtype=np.int32)
    if month_starts.size:
        age = np.minimum(age_days // 365.2425, _MAX_AGE_YEARS - 1).astype(np.int64)
        draw = np.searchsorted(cdf.ravel(), age + rng.random(rows), side="right")
        month = np.minimum(draw - age * month_starts.size, month_starts.size - 1)
        issued = month_starts[month] + (rng.random(rows) * month_lengths[month]).astype(np.int64)
        issued = np.minimum(issued, today)
        # babies get their first card some time between one month old and today
        earliest = birth.astype(np.int64) + _MIN_AGE_AT_ISSUE_DAYS
        too_early = issued < earliest
        late = earliest + (rng.random(rows) * np.maximum(today - earliest, 0)).astype(np.int64)
        issued = np.where(too_early, late, issued)
        holds &= earliest <= today
        card = np.where(holds, issued, NO_DATE).astype(np.int32)

    # renew expired cards (a 5-year card of 2016 may have been renewed twice by 2026)
    for _ in range(3):
        expiry = card_expiry_days(birth, card)
        expired = (card != NO_DATE) & (expiry < today)
        renews = expired & (rng.random(rows) < _CARD_RENEWAL_SHARE)
        if not renews.any():
            break
        lead = (rng.random(rows) * _CARD_RENEWAL_LEAD_DAYS).astype(np.int32)
        card = np.where(renews, np.maximum(expiry - lead, card + 1), card).astype(np.int32)

    with_cert = (card != NO_DATE) & (rng.random(rows) < _CERT_WITH_CARD_SHARE)
    cert = np.where(with_cert, card, NO_DATE).astype(np.int32)
    card_expiry = card_expiry_days(birth, card)
    for _ in range(2):
        cert_expiry = cert_expiry_days(birth, cert, card_expiry)
        lag = (rng.random(rows) * _CERT_RENEWAL_LAG_DAYS).astype(np.int32)
        renewed_on = cert_expiry + 1 + lag
        renews = (
            (cert != NO_DATE)
            & (cert_expiry < card_expiry)
            & (renewed_on <= today)
            & (rng.random(rows) < _CERT_RENEWAL_SHARE)
        )
        if not renews.any():
            break
        cert = np.where(renews, renewed_on, cert).astype(np.int32)

    return SyntheticRegister(
        birth_day=birth, card_issued_day=card, cert_issued_day=cert, person_count=rows
    )


def iter_synthetic_register(
    *, people: int, seed: int, as_of: dt.date, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[SyntheticRegister]:
    """Yield a synthetic register of ``people`` rows in chunks of at most ``chunk_rows``.

    For registers too large for one call's temporaries (the national benchmark's 124M rows).
    Raises ValueError when ``people`` is negative or ``chunk_rows`` is not positive.
    """
    if people < 0:
        raise ValueError("people must be ≥ 0")
    if chunk_rows <= 0:
        raise ValueError("chunk_rows must be > 0")
    for index, first in enumerate(range(0, people, chunk_rows)):
        rows = min(chunk_rows, people - first)
        yield _chunk(rows, np.random.default_rng([seed, index]), as_of)


def generate_synthetic_register(
    *, people: int, seed: int, as_of: dt.date, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> SyntheticRegister:
    """Return a synthetic register of ``people`` fictitious residents as of ``as_of``.

    Deterministic by ``seed`` (and ``chunk_rows``). Birth dates follow Japan's age pyramid; about
    79% hold a card; card issue dates follow the national waves (none before 2016); certificates are
    issued with the card for most and some were renewed later. Raises ValueError as
    :func:`iter_synthetic_register`.
    """
    chunks = list(
        iter_synthetic_register(people=people, seed=seed, as_of=as_of, chunk_rows=chunk_rows)
    )
    if not chunks:
        empty = np.empty(0, dtype=np.int32)
        return SyntheticRegister(
            birth_day=empty,
            card_issued_day=empty.copy(),
            cert_issued_day=empty.copy(),
            person_count=0,
        )
    return SyntheticRegister(
        birth_day=np.concatenate([c.birth_day for c in chunks]),
        card_issued_day=np.concatenate([c.card_issued_day for c in chunks]),
        cert_issued_day=np.concatenate([c.cert_issued_day for c in chunks]),
        person_count=people,
    )
