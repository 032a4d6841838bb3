"""Expected card arrivals: weekly application counts spread over a production-lag distribution.

J-LIS produces a card in "about 1 month, up to 2 at peaks" (docs/domain.md, "The card's journey").
Nobody publishes the distribution, so it is a parameter: `lag_weights[k]` is the share of a
week's applications whose cards arrive `k` weeks later. The default below is an **assumption**
(3 weeks 10%, 4 weeks 40%, 5 weeks 30%, 6 weeks 15%, 8 weeks 5%: most cards in about a month,
a tail to two); a municipality should replace it with its own observed lags.

The model is a discrete convolution, ``arrivals[w] = Σ_k applications[w − k] × lag[k]``, over
weeks counted from the first application week (index 0). The result runs ``max lag`` weeks past
the last application week, so every application lands somewhere: the total is preserved. A week
is *complete* only when every week that feeds it (``w − k`` for each lag ``k`` with weight) is
inside the data; the first weeks (earlier applications are unknown) and the last ones (later
applications are unknown) are lower bounds, and are flagged so.

Pure: numpy and dataclasses only (the import-linter contract "planning is pure").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_LAG_WEIGHTS: Mapping[int, float] = {3: 0.10, 4: 0.40, 5: 0.30, 6: 0.15, 8: 0.05}
"""Share of a week's applications arriving k weeks later. An assumption, see the module doc."""

MAX_LAG_WEEKS = 52
WEIGHT_TOLERANCE = 1e-6

__all__ = [
    "DEFAULT_LAG_WEIGHTS",
    "ArrivalProjection",
    "LagError",
    "expected_arrivals",
    "lag_vector",
    "parse_lag_weights",
]


class LagError(ValueError):
    """A production-lag distribution that cannot be used (message in Japanese)."""


@dataclass(frozen=True)
class ArrivalProjection:
    """Expected arrivals per week, index 0 = the first application week.

    `arrivals` has ``len(applications) + max_lag`` weeks (cards per week, fractional);
    `complete[w]` is False where unknown applications before or after the data would add to
    week `w` (the value is then a lower bound).
    """

    arrivals: FloatArray
    complete: BoolArray

    @property
    def total(self) -> float:
        return float(self.arrivals.sum())


def lag_vector(lag_weights: Mapping[int, float]) -> FloatArray:
    """The weights as a dense vector ``v[k]`` for k = 0…max lag (weeks).

    Raises LagError when a lag is not a whole number of weeks in 0…MAX_LAG_WEEKS, a weight is
    negative or not finite, or the weights do not sum to 1 (within WEIGHT_TOLERANCE).
    """
    if not lag_weights:
        raise LagError("製造期間の分布が空です（例: 4:0.4,5:0.3,...）。")
    for lag, weight in lag_weights.items():
        if isinstance(lag, bool) or not isinstance(lag, int) or not 0 <= lag <= MAX_LAG_WEEKS:
            raise LagError(
                f"製造期間「{lag}」は 0〜{MAX_LAG_WEEKS} の整数（週）で指定してください。"
            )
        if not math.isfinite(weight) or weight < 0:
            raise LagError(f"{lag}週の割合「{weight}」は 0 以上の数で指定してください。")
    total = math.fsum(lag_weights.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise LagError(f"製造期間の割合の合計が1になりません（合計 {total:g}）。")
    vector = np.zeros(max(lag_weights) + 1, dtype=np.float64)
    for lag, weight in lag_weights.items():
        vector[lag] = weight
    return vector


def parse_lag_weights(text: str) -> dict[int, float]:
    """``"4:0.4,5:0.3,6:0.3"`` → ``{4: 0.4, 5: 0.3, 6: 0.3}`` (validated by `lag_vector`).

    Raises LagError on a malformed pair, a repeated lag or an invalid distribution."""
    weights: dict[int, float] = {}
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        lag_text, sep, weight_text = part.partition(":")
        try:
            if not sep:
                raise ValueError
            lag, weight = int(lag_text), float(weight_text)
        except ValueError:
            raise LagError(
                f"「{part}」を読めません。「週:割合」をカンマで区切って指定してください"
                "（例: 4:0.4,5:0.3）。"
            ) from None
        if lag in weights:
            raise LagError(f"{lag}週が2回指定されています。")
        weights[lag] = weight
    lag_vector(weights)
    return weights


def expected_arrivals(
    applications: Sequence[float] | FloatArray,
    lag_weights: Mapping[int, float] = DEFAULT_LAG_WEIGHTS,
) -> ArrivalProjection:
    """Convolve weekly application counts (index 0 = first week, no gaps) with the lag.

    Returns ``len(applications) + max_lag`` weeks whose sum equals the applications' sum.
    Raises LagError (see `lag_vector`) and ValueError when a count is negative or not finite.
    """
    counts = np.asarray(applications, dtype=np.float64)
    if counts.ndim != 1:
        raise ValueError("applications must be one count per week")
    if counts.size and (not np.all(np.isfinite(counts)) or np.any(counts < 0)):
        raise ValueError("application counts must be finite and non-negative")
    vector = lag_vector(lag_weights)
    if counts.size == 0:
        return ArrivalProjection(np.zeros(0), np.zeros(0, dtype=np.bool_))
    arrivals = np.convolve(counts, vector)  # length n + max_lag
    lags = np.flatnonzero(vector > 0)
    weeks = np.arange(arrivals.size)
    complete = (weeks - lags.max() >= 0) & (weeks - lags.min() <= counts.size - 1)
    return ArrivalProjection(arrivals=arrivals, complete=complete)
