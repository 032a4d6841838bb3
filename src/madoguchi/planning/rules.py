"""Validity rules of the My Number Card and its e-certificates (docs/domain.md "Validity rules").

Dates are handled in two forms:

* scalar ``datetime.date`` helpers for one person (``card_expiry_date`` …), written with plain
  calendar arithmetic — they are the readable reference;
* vectorised functions over numpy arrays of **day numbers** (days since 1970-01-01, the same
  integers as ``datetime64[D]``), with :data:`NO_DATE` for "none". The hot path uses lookup tables
  built once at import (day number → year / month-day, and (year, month-day) → day number), never
  per-row calendar arithmetic, so 124M rows run in seconds (docs/ARCHITECTURE.md, "planning").

Readings chosen (and tested in ``tests/planning/test_rules.py``):

* **"The Nth birthday after the issue date"** counts birthdays *strictly after* the issue date. A
  card issued on the holder's birthday therefore runs exactly N years (that day's birthday is not
  counted); a card issued the day before a birthday runs N-1 years and a day.
* **Age at issue** is the ordinary calendar age on the issue date: a holder issued a card on their
  18th birthday is 18.
* **Age threshold**: 20 for cards issued before 2022-04-01, 18 from that day (docs/contract.md: the
  register's ``card_issued_on`` decides, not the J-LIS application date, which registers lack).
* **29 February** birthdays fall on **28 February** in common years — :data:`FEB_29_IN_COMMON_YEARS`
  is the only place that says so (docs/decisions/0002-feb-29-birthdays.md).
* A printed expiry date, when given, wins over every computed one (also over the card cap).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "AGE_THRESHOLD_CHANGED_ON",
    "FEB_29_IN_COMMON_YEARS",
    "FIRST_SUPPORTED_YEAR",
    "LAST_SUPPORTED_YEAR",
    "NO_DATE",
    "DayArray",
    "age_on",
    "age_on_days",
    "birthday_in_year",
    "card_and_cert_expiries",
    "card_expiry_date",
    "card_expiry_days",
    "cert_expiry_date",
    "cert_expiry_days",
    "date_from_day_number",
    "day_number",
    "days_from_dates",
    "renewal_window_opens_date",
    "renewal_window_opens_days",
    "renewed_in_window",
    "years_of_days",
]

DayArray = npt.NDArray[np.int32]
"""Day numbers (days since 1970-01-01) with :data:`NO_DATE` for none."""

NO_DATE: Final = np.int32(np.iinfo(np.int32).min)
"""Sentinel day number meaning "no date" (empty register cell)."""

FEB_29_IN_COMMON_YEARS: Final = (2, 28)
"""Where a 29 February birthday falls in a common year: 28 February (the usual legal reading; the
national rule is unconfirmed — docs/domain.md). The single place this convention lives."""

AGE_THRESHOLD_CHANGED_ON: Final = dt.date(2022, 4, 1)
"""Cards issued before this date use adult age 20; from it, 18."""

ADULT_AGE_BEFORE: Final = 20
ADULT_AGE_FROM: Final = 18
assert ADULT_AGE_BEFORE - ADULT_AGE_FROM == 2  # the fused kernel relies on it
ADULT_CARD_YEARS: Final = 10
MINOR_CARD_YEARS: Final = 5
CERT_YEARS: Final = 5
CERT_YEARS_RENEWED_IN_WINDOW: Final = 6
RENEWAL_WINDOW_MONTHS: Final = 3

FIRST_SUPPORTED_YEAR: Final = 1850
"""Earliest year the lookup tables cover (birth dates before it are rejected)."""
LAST_SUPPORTED_YEAR: Final = 2249
"""Latest year the lookup tables cover (expiries after it cannot be computed)."""

_EPOCH: Final = dt.date(1970, 1, 1)
_EPOCH_ORDINAL: Final = _EPOCH.toordinal()


# ---------------------------------------------------------------------------------------------
# Scalar helpers (reference implementation, plain calendar arithmetic)
# ---------------------------------------------------------------------------------------------


def day_number(on: dt.date) -> int:
    """Return the day number of ``on`` (days since 1970-01-01; negative before)."""
    return on.toordinal() - _EPOCH_ORDINAL


def date_from_day_number(day: int) -> dt.date:
    """Return the date of day number ``day``. Raises ValueError for :data:`NO_DATE`."""
    if day == NO_DATE:
        raise ValueError("NO_DATE has no calendar date")
    return dt.date.fromordinal(int(day) + _EPOCH_ORDINAL)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def birthday_in_year(birth_on: dt.date, year: int) -> dt.date:
    """Return the birthday of someone born on ``birth_on`` in calendar ``year``.

    29 February births fall on :data:`FEB_29_IN_COMMON_YEARS` in common years.
    """
    if birth_on.month == 2 and birth_on.day == 29 and not _is_leap(year):
        month, day = FEB_29_IN_COMMON_YEARS
        return dt.date(year, month, day)
    return dt.date(year, birth_on.month, birth_on.day)


def _nth_birthday_after(birth_on: dt.date, after: dt.date, n: int) -> dt.date:
    """The n-th birthday strictly after the date ``after`` (n ≥ 1)."""
    first_year = after.year if birthday_in_year(birth_on, after.year) > after else after.year + 1
    return birthday_in_year(birth_on, first_year + n - 1)


def age_on(birth_on: dt.date, on: dt.date) -> int:
    """Full years of age on the date ``on``: one more from each birthday (`birthday_in_year`)."""
    return on.year - birth_on.year - (1 if birthday_in_year(birth_on, on.year) > on else 0)


def card_expiry_date(
    *, birth_on: dt.date, card_issued_on: dt.date, printed: dt.date | None = None
) -> dt.date:
    """Return the last valid day of a card.

    The 10th birthday strictly after ``card_issued_on`` when the holder's age on that day was at
    least 18 (20 for cards issued before 2022-04-01), else the 5th. ``printed`` (the expiry printed
    on the card / given by the register) wins when given. Dates before birth are not checked here
    (register_io rejects them).
    """
    if printed is not None:
        return printed
    threshold = ADULT_AGE_BEFORE if card_issued_on < AGE_THRESHOLD_CHANGED_ON else ADULT_AGE_FROM
    years = ADULT_CARD_YEARS if age_on(birth_on, card_issued_on) >= threshold else MINOR_CARD_YEARS
    return _nth_birthday_after(birth_on, card_issued_on, years)


def cert_expiry_date(
    *,
    birth_on: dt.date,
    cert_issued_on: dt.date,
    card_expires_on: dt.date | None,
    renewed_in_window: bool = False,
    printed: dt.date | None = None,
) -> dt.date:
    """Return the last valid day of an e-certificate.

    The 5th birthday strictly after ``cert_issued_on`` (the 6th when ``renewed_in_window``: the
    certificate was renewed when less than 3 months remained), never after ``card_expires_on``.
    ``printed`` wins when given (also over the card cap).
    """
    if printed is not None:
        return printed
    years = CERT_YEARS_RENEWED_IN_WINDOW if renewed_in_window else CERT_YEARS
    expiry = _nth_birthday_after(birth_on, cert_issued_on, years)
    if card_expires_on is not None and card_expires_on < expiry:
        return card_expires_on
    return expiry


def _minus_months(on: dt.date, months: int) -> dt.date:
    index = on.year * 12 + (on.month - 1) - months
    year, month0 = divmod(index, 12)
    next_month = dt.date(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month0 + 1, min(on.day, last_day))


def renewal_window_opens_date(expires_on: dt.date) -> dt.date:
    """Return the first day a renewal can be requested: the day after ``expires_on`` minus 3 months.

    Month subtraction keeps the day of month, clamped to the month's end (31 May → 28/29 Feb, so the
    window opens 1 March).
    """
    return _minus_months(expires_on, RENEWAL_WINDOW_MONTHS) + dt.timedelta(days=1)


def renewed_in_window(*, renewed_on: dt.date, old_expires_on: dt.date) -> bool:
    """True when a certificate renewed on ``renewed_on`` gets the 6th-birthday validity.

    That is when it was renewed inside the renewal window of the old certificate (on or after the
    window opened and no later than its expiry day).
    """
    return renewal_window_opens_date(old_expires_on) <= renewed_on <= old_expires_on


# ---------------------------------------------------------------------------------------------
# Lookup tables (built once at import)
# ---------------------------------------------------------------------------------------------

_MD_PER_YEAR: Final = 366  # month-day slots, laid out as in a leap year (index 59 = 29 Feb)
_FEB_29_SLOT: Final = 59


def _build_tables() -> tuple[
    int,
    npt.NDArray[np.int16],
    npt.NDArray[np.int16],
    npt.NDArray[np.int8],
    npt.NDArray[np.int8],
    npt.NDArray[np.int32],
    npt.NDArray[np.int32],
]:
    first = np.datetime64(f"{FIRST_SUPPORTED_YEAR:04d}-01-01", "D")
    end = np.datetime64(f"{LAST_SUPPORTED_YEAR + 1:04d}-01-01", "D")
    days = np.arange(first, end)
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    month_starts = days.astype("datetime64[M]").astype("datetime64[D]")
    dom = (days - month_starts).astype(np.int64) + 1
    leap_month_starts = np.array([0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335])
    md_slot = leap_month_starts[months - 1] + dom - 1
    first_day = int(first.astype(np.int64))

    n_years = LAST_SUPPORTED_YEAR + 1 - FIRST_SUPPORTED_YEAR
    birthday = np.zeros((n_years, _MD_PER_YEAR), dtype=np.int32)
    day_numbers = days.astype(np.int64)
    birthday[years - FIRST_SUPPORTED_YEAR, md_slot] = day_numbers
    common = np.array(
        [not _is_leap(y) for y in range(FIRST_SUPPORTED_YEAR, LAST_SUPPORTED_YEAR + 1)]
    )
    feb_month, feb_day = FEB_29_IN_COMMON_YEARS
    substitute_slot = int(leap_month_starts[feb_month - 1]) + feb_day - 1
    birthday[common, _FEB_29_SLOT] = birthday[common, substitute_slot]

    month_start_table = (
        np.arange(
            np.datetime64(f"{FIRST_SUPPORTED_YEAR:04d}-01", "M"),
            np.datetime64(f"{LAST_SUPPORTED_YEAR + 1:04d}-02", "M"),
        )
        .astype("datetime64[D]")
        .astype(np.int64)
        .astype(np.int32)
    )
    return (
        first_day,
        years.astype(np.int16),
        md_slot.astype(np.int16),
        months.astype(np.int8),
        dom.astype(np.int8),
        birthday.reshape(-1),
        month_start_table,
    )


(
    _FIRST_DAY,
    _DAY_YEAR,
    _DAY_MD_SLOT,
    _DAY_MONTH,
    _DAY_OF_MONTH,
    _BIRTHDAY_FLAT,
    _MONTH_START,
) = _build_tables()
_LAST_DAY: Final = _FIRST_DAY + len(_DAY_YEAR) - 1
# Expiries reach up to 10 years past the latest issue date; keep inputs far enough from the end.
_LAST_INPUT_DAY: Final = day_number(dt.date(LAST_SUPPORTED_YEAR - 11, 12, 31))
_SAFE_DAY: Final = day_number(dt.date(2000, 1, 1))  # stand-in for NO_DATE inside the tables
_THRESHOLD_DAY: Final = day_number(AGE_THRESHOLD_CHANGED_ON)


def _as_days(values: npt.ArrayLike) -> DayArray:
    array = np.asarray(values)
    if array.dtype != np.int32:
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"day numbers must be integers, got {array.dtype}")
        array = array.astype(np.int32)
    return array


def _fill_missing(days: DayArray) -> tuple[DayArray, npt.NDArray[np.bool_]]:
    """Replace NO_DATE by an in-table stand-in, check the range; return (filled, present mask)."""
    present = days != NO_DATE
    filled = np.where(present, days, np.int32(_SAFE_DAY))
    if filled.size and (int(filled.min()) < _FIRST_DAY or int(filled.max()) > _LAST_INPUT_DAY):
        raise ValueError(
            f"day numbers must lie in {FIRST_SUPPORTED_YEAR}-01-01.."
            f"{LAST_SUPPORTED_YEAR - 11}-12-31"
        )
    return filled, present


def days_from_dates(values: npt.ArrayLike) -> DayArray:
    """Convert ``datetime64`` values (NaT = none) to int32 day numbers with :data:`NO_DATE`."""
    array = np.asarray(values, dtype="datetime64[D]")
    days = array.astype(np.int64)
    return np.where(np.isnat(array), NO_DATE, days).astype(np.int32)


def years_of_days(days: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """Return the calendar year of each day number (:data:`NO_DATE` gives 0)."""
    filled, present = _fill_missing(_as_days(days))
    return np.where(present, _DAY_YEAR[filled - _FIRST_DAY], np.int16(0)).astype(np.int16)


def age_on_days(birth_days: npt.ArrayLike, on_days: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """Return each person's calendar age (years) on ``on_days``; -1 where a date is missing."""
    birth, birth_present = _fill_missing(_as_days(birth_days))
    on, on_present = _fill_missing(_as_days(on_days))
    birth_index = birth - _FIRST_DAY
    on_year = _DAY_YEAR[on - _FIRST_DAY].astype(np.int32)
    birthday_this_year = _BIRTHDAY_FLAT[
        (on_year - FIRST_SUPPORTED_YEAR) * _MD_PER_YEAR + _DAY_MD_SLOT[birth_index]
    ]
    age = on_year - _DAY_YEAR[birth_index] - (birthday_this_year > on)
    return np.where(birth_present & on_present, age, -1).astype(np.int16)


def _nth_birthday_after_days(
    birth: DayArray, after: DayArray, years: npt.NDArray[np.int32] | int
) -> tuple[DayArray, npt.NDArray[np.int32]]:
    """Vectorised n-th birthday strictly after ``after`` (inputs already filled and in range).

    Returns (birthday day numbers, age on ``after``).
    """
    birth_index = birth - _FIRST_DAY
    md_slot = _DAY_MD_SLOT[birth_index].astype(np.int32)
    after_year = _DAY_YEAR[after - _FIRST_DAY].astype(np.int32)
    birthday_that_year = _BIRTHDAY_FLAT[
        (after_year - FIRST_SUPPORTED_YEAR) * _MD_PER_YEAR + md_slot
    ]
    still_ahead = (birthday_that_year > after).astype(np.int32)
    age = after_year - _DAY_YEAR[birth_index] - still_ahead
    # first birthday strictly after: this year if still ahead, else next; n-th: + n - 1
    target_year = after_year + years - still_ahead
    expiry = _BIRTHDAY_FLAT[(target_year - FIRST_SUPPORTED_YEAR) * _MD_PER_YEAR + md_slot]
    return expiry, age


def card_expiry_days(
    birth_days: npt.ArrayLike,
    card_issued_days: npt.ArrayLike,
    printed_days: npt.ArrayLike | None = None,
) -> DayArray:
    """Vectorised :func:`card_expiry_date` over day-number arrays (int32 result).

    :data:`NO_DATE` where the card issue date or the birth date is missing — unless a printed
    expiry is given, which always wins. Raises ValueError for dates outside the supported years
    (see :data:`FIRST_SUPPORTED_YEAR`) and TypeError for non-integer input.
    """
    birth, birth_present = _fill_missing(_as_days(birth_days))
    issued, issued_present = _fill_missing(_as_days(card_issued_days))
    threshold = np.where(issued < _THRESHOLD_DAY, ADULT_AGE_BEFORE, ADULT_AGE_FROM)
    # Age at issue only depends on the issue year's birthday, which _nth_birthday_after_days also
    # needs: compute it once with 10 years, then redo the minors (a minority) with 5.
    expiry, age = _nth_birthday_after_days(birth, issued, ADULT_CARD_YEARS)
    minor = age < threshold
    if minor.any():
        expiry_minor, _ = _nth_birthday_after_days(birth[minor], issued[minor], MINOR_CARD_YEARS)
        expiry[minor] = expiry_minor
    result = np.where(birth_present & issued_present, expiry, NO_DATE).astype(np.int32)
    if printed_days is not None:
        printed = _as_days(printed_days)
        result = np.where(printed != NO_DATE, printed, result).astype(np.int32)
    return result


def cert_expiry_days(
    birth_days: npt.ArrayLike,
    cert_issued_days: npt.ArrayLike,
    card_expiry: npt.ArrayLike,
    *,
    renewed_in_window: npt.ArrayLike = False,
    printed_days: npt.ArrayLike | None = None,
) -> DayArray:
    """Vectorised :func:`cert_expiry_date` over day-number arrays (int32 result).

    ``card_expiry`` is the card's effective expiry (computed or printed; :data:`NO_DATE` = unknown,
    no cap). ``renewed_in_window`` (bool or bool array) selects the 6th-birthday rule; registers
    default to the 5th (docs/contract.md). :data:`NO_DATE` where the certificate issue date or birth
    date is missing, unless ``printed_days`` (which wins) is given. Raises as
    :func:`card_expiry_days`.
    """
    birth, birth_present = _fill_missing(_as_days(birth_days))
    issued, issued_present = _fill_missing(_as_days(cert_issued_days))
    years = np.where(
        np.asarray(renewed_in_window, dtype=bool), CERT_YEARS_RENEWED_IN_WINDOW, CERT_YEARS
    ).astype(np.int32)
    expiry, _ = _nth_birthday_after_days(birth, issued, years)
    card = _as_days(card_expiry)
    # NO_DATE is the smallest int32, so "capped by an unknown card" must be skipped explicitly
    capped = np.where((card != NO_DATE) & (card < expiry), card, expiry)
    result = np.where(birth_present & issued_present, capped, NO_DATE).astype(np.int32)
    if printed_days is not None:
        printed = _as_days(printed_days)
        result = np.where(printed != NO_DATE, printed, result).astype(np.int32)
    return result


def renewal_window_opens_days(expiry_days: npt.ArrayLike) -> DayArray:
    """Vectorised :func:`renewal_window_opens_date`; :data:`NO_DATE` stays :data:`NO_DATE`."""
    expiry, present = _fill_missing(_as_days(expiry_days))
    index = expiry - _FIRST_DAY
    year = _DAY_YEAR[index].astype(np.int32)
    month0 = _DAY_MONTH[index].astype(np.int32) - 1
    dom = _DAY_OF_MONTH[index].astype(np.int32)
    month_index = (year - FIRST_SUPPORTED_YEAR) * 12 + month0 - RENEWAL_WINDOW_MONTHS
    if month_index.size and int(month_index.min()) < 0:
        raise ValueError(f"expiry dates must lie after {FIRST_SUPPORTED_YEAR}-03-31")
    month_start = _MONTH_START[month_index]
    month_length = _MONTH_START[month_index + 1] - month_start
    opens = month_start + np.minimum(dom, month_length) - 1 + 1
    return np.where(present, opens, NO_DATE).astype(np.int32)


# ---------------------------------------------------------------------------------------------
# Fused kernel for the national scan (same rules, fewer passes over the rows)
# ---------------------------------------------------------------------------------------------

# int32 copies of the tables, in "index" units (day number - _FIRST_DAY), so the hot path needs
# no dtype conversions and no re-basing of gathered days.
_YEAR_I32: Final = _DAY_YEAR.astype(np.int32)
_MD_SLOT_I32: Final = _DAY_MD_SLOT.astype(np.int32)
_BIRTHDAY_INDEX: Final = (_BIRTHDAY_FLAT - _FIRST_DAY).astype(np.int32)
_SAFE_INDEX: Final = np.int32(_SAFE_DAY - _FIRST_DAY)
_THRESHOLD_INDEX: Final = np.int32(_THRESHOLD_DAY - _FIRST_DAY)
_LAST_INPUT_INDEX: Final = _LAST_INPUT_DAY - _FIRST_DAY
_YEAR_BASE: Final = np.int32(FIRST_SUPPORTED_YEAR)


def _indices(days: npt.ArrayLike) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]:
    """(day - first table day, with NO_DATE → a safe stand-in; present mask). Checks the range."""
    raw = _as_days(days)
    present = raw != NO_DATE
    index = np.where(present, raw - np.int32(_FIRST_DAY), _SAFE_INDEX)
    if index.size and (int(index.min()) < 0 or int(index.max()) > _LAST_INPUT_INDEX):
        raise ValueError(
            f"day numbers must lie in {FIRST_SUPPORTED_YEAR}-01-01.."
            f"{LAST_SUPPORTED_YEAR - 11}-12-31"
        )
    return index, present


def card_and_cert_expiries(
    birth_days: npt.ArrayLike,
    card_issued_days: npt.ArrayLike,
    cert_issued_days: npt.ArrayLike,
    card_printed_days: npt.ArrayLike | None = None,
    cert_printed_days: npt.ArrayLike | None = None,
) -> tuple[DayArray, DayArray, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Card and certificate expiries of a register chunk in one pass (the forecast's hot path).

    Returns ``(card_expiry, cert_expiry, card_age, cert_age)``: the expiries exactly as
    :func:`card_expiry_days` and :func:`cert_expiry_days` (5th-birthday rule, capped by the card,
    printed dates win; :data:`NO_DATE` where none) and the holder's age reached in the year of each
    expiry (undefined where the expiry is :data:`NO_DATE`). Raises as :func:`card_expiry_days`.
    """
    birth, birth_present = _indices(birth_days)
    birth_year = _YEAR_I32[birth]
    md_slot = _MD_SLOT_I32[birth]

    def nth_birthday(
        issued_days: npt.ArrayLike, minor_threshold: bool
    ) -> tuple[DayArray, npt.NDArray[np.int32], npt.NDArray[np.bool_]]:
        issued, present = _indices(issued_days)
        present &= birth_present
        year = _YEAR_I32[issued]
        base = (year - _YEAR_BASE) * _MD_PER_YEAR + md_slot
        ahead = _BIRTHDAY_INDEX[base] > issued
        age = year - birth_year - ahead  # age on the issue day
        if minor_threshold:
            # adult from 20 before 2022-04-01, from 18 after: compare age - 2·(before) with 18
            adult = (age - 2 * (issued < _THRESHOLD_INDEX)) >= ADULT_AGE_FROM
            years = np.where(adult, ADULT_CARD_YEARS, MINOR_CARD_YEARS).astype(np.int32)
        else:
            years = np.full_like(age, CERT_YEARS)
        expiry_index = _BIRTHDAY_INDEX[base + (years - ahead) * _MD_PER_YEAR]
        expiry = np.where(present, expiry_index + np.int32(_FIRST_DAY), NO_DATE).astype(np.int32)
        return expiry, age + years, present

    card, card_age, _ = nth_birthday(card_issued_days, True)
    if card_printed_days is not None:
        card, card_age = _apply_printed(card, card_age, card_printed_days, birth_year)
    cert, cert_age, _ = nth_birthday(cert_issued_days, False)
    capped = (card != NO_DATE) & (card < cert)
    cert = np.where(capped, card, cert)
    cert_age = np.where(capped, card_age, cert_age)
    if cert_printed_days is not None:
        cert, cert_age = _apply_printed(cert, cert_age, cert_printed_days, birth_year)
    return card, cert, card_age, cert_age


def _apply_printed(
    expiry: DayArray,
    age: npt.NDArray[np.int32],
    printed_days: npt.ArrayLike,
    birth_year: npt.NDArray[np.int32],
) -> tuple[DayArray, npt.NDArray[np.int32]]:
    printed, present = _indices(printed_days)
    expiry = np.where(present, printed + np.int32(_FIRST_DAY), expiry).astype(np.int32)
    age = np.where(present, _YEAR_I32[printed] - birth_year, age).astype(np.int32)
    return expiry, age


# ---------------------------------------------------------------------------------------------
# Tables of the binned national kernel (demand.ExpiryCubeBuilder): one gather per date
# ---------------------------------------------------------------------------------------------

KERNEL_YEAR_SHIFT: Final = 9
"""Codes pack ``(year - FIRST_SUPPORTED_YEAR) << 9 | slot`` (slots < 512)."""
KERNEL_SLOT_MASK: Final = (1 << KERNEL_YEAR_SHIFT) - 1
KERNEL_DAY_BASE: Final = _FIRST_DAY - 1
"""Kernel tables are indexed by ``day - KERNEL_DAY_BASE`` (1 = the first table day)."""
KERNEL_LAST_INDEX: Final = _LAST_INPUT_DAY - KERNEL_DAY_BASE
"""Largest index an input date may have; a missing date is read as this day (see below)."""
KERNEL_THRESHOLD_INDEX: Final = _THRESHOLD_DAY - KERNEL_DAY_BASE
KERNEL_MISSING_EXPIRES_FROM: Final = day_number(dt.date(LAST_SUPPORTED_YEAR - 6, 1, 1))
"""Expiries computed from the stand-in of a missing issue date (the last input day) fall on or
after this day: a cube ending before it never counts them, and a real certificate inside it
always ends before such a card (so it counts, as one without a card must)."""


def _kernel_tables() -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    years = _DAY_YEAR.astype(np.int32) - FIRST_SUPPORTED_YEAR
    slots = _DAY_MD_SLOT.astype(np.int32)
    n_years = LAST_SUPPORTED_YEAR + 1 - FIRST_SUPPORTED_YEAR
    birthdays = _BIRTHDAY_FLAT.reshape(n_years, _MD_PER_YEAR) - KERNEL_DAY_BASE
    # rank of a day: the last slot whose birthday (in the day's year) is on or before it, so
    # "the birthday of slot s is still ahead of day d" ⇔ rank(d) < s — 29 February birthdays in
    # common years included, whatever FEB_29_IN_COMMON_YEARS says.
    rank = np.full(len(years) + 1, -1, dtype=np.int32)
    np.maximum.at(
        rank,
        birthdays.reshape(-1),
        np.tile(np.arange(_MD_PER_YEAR, dtype=np.int32), n_years),
    )
    birth_code = np.zeros(len(years) + 1, dtype=np.int32)
    birth_code[1:] = (years << KERNEL_YEAR_SHIFT) | slots
    issue_code = np.zeros(len(years) + 1, dtype=np.int32)
    issue_code[1:] = (years << KERNEL_YEAR_SHIFT) | rank[1:]
    wide = np.zeros((n_years + 1, KERNEL_SLOT_MASK + 1), dtype=np.int32)
    wide[:n_years, :_MD_PER_YEAR] = birthdays
    wide[n_years, :] = len(years)  # never reached from supported input; keeps gathers in range
    return birth_code, issue_code, wide.reshape(-1)


KERNEL_BIRTH_CODE, KERNEL_ISSUE_CODE, KERNEL_BIRTHDAYS = _kernel_tables()
"""``KERNEL_BIRTH_CODE[i]``: year and month-day slot of the birth day with index i;
``KERNEL_ISSUE_CODE[i]``: year and rank of an issue day; ``KERNEL_BIRTHDAYS[code]``: index of the
birthday of slot ``code & KERNEL_SLOT_MASK`` in year ``code >> KERNEL_YEAR_SHIFT``."""
