"""Card and certificate holding: residents and holders of a valid card per area and age band.

The seed's headline figure is the holding rate (card holders ÷ registered residents, 79.2% in
July 2025). A holder is a resident whose card (or certificate) is valid on the reference day: its
expiry — printed, or computed by :mod:`madoguchi.planning.rules` — is on or after that day.
Age bands are the forecast's 5-year bands (:data:`AGE_BAND_COUNT`, 100+ last), by age on the
reference day. Pure: numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from madoguchi.planning.demand import AGE_BAND_COUNT, AGE_BAND_YEARS, RegisterColumns
from madoguchi.planning.rules import NO_DATE, age_on_days, card_and_cert_expiries

__all__ = ["HOLDING_MEASURES", "HoldingCounts", "count_holders", "holding_rate"]

HOLDING_MEASURES: Final = ("residents", "card_holders", "cert_holders")
RESIDENTS, CARD_HOLDERS, CERT_HOLDERS = 0, 1, 2


@dataclass(frozen=True)
class HoldingCounts:
    """``counts[area, band, measure]`` (measures as :data:`HOLDING_MEASURES`), int64."""

    counts: npt.NDArray[np.int64]

    @classmethod
    def empty(cls, areas: int) -> HoldingCounts:
        return cls(np.zeros((areas, AGE_BAND_COUNT, len(HOLDING_MEASURES)), dtype=np.int64))


def count_holders(
    chunk: RegisterColumns,
    *,
    area_index: npt.NDArray[np.int32],
    areas: int,
    on_day: int,
) -> HoldingCounts:
    """Count residents, card holders and certificate holders of one register chunk.

    ``area_index[i]`` (0 ≤ … < ``areas``) is row ``i``'s area; ``on_day`` the reference day
    number. A resident born after ``on_day`` is not counted. Raises ValueError as the rules do
    for dates outside the supported years.
    """
    if len(area_index) != chunk.row_count:
        raise ValueError("area_index must have one entry per row")
    card, cert, _, _ = card_and_cert_expiries(
        chunk.birth_day,
        chunk.card_issued_day,
        chunk.cert_issued_day,
        chunk.card_expires_day,
        chunk.cert_expires_day,
    )
    age = age_on_days(chunk.birth_day, np.full(chunk.row_count, on_day, dtype=np.int32))
    alive = age >= 0
    band = np.minimum(age.astype(np.int64) // AGE_BAND_YEARS, AGE_BAND_COUNT - 1)
    cell = (area_index.astype(np.int64) * AGE_BAND_COUNT + band)[alive]
    size = areas * AGE_BAND_COUNT
    counts = np.zeros((size, len(HOLDING_MEASURES)), dtype=np.int64)
    counts[:, RESIDENTS] = np.bincount(cell, minlength=size)
    for measure, expiry in ((CARD_HOLDERS, card), (CERT_HOLDERS, cert)):
        valid = ((expiry != NO_DATE) & (expiry >= on_day))[alive]
        counts[:, measure] = np.bincount(cell[valid], minlength=size)
    return HoldingCounts(counts.reshape(areas, AGE_BAND_COUNT, len(HOLDING_MEASURES)))


def holding_rate(holders: npt.ArrayLike, residents: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Holders ÷ residents (NaN where there are no residents)."""
    held = np.asarray(holders, dtype=np.float64)
    total = np.asarray(residents, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate: npt.NDArray[np.float64] = np.where(total > 0, held / total, np.nan)
    return rate
