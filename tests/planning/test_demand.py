import datetime as dt

import numpy as np
import pytest

from madoguchi.planning.demand import (
    AGE_BAND_COUNT,
    CARD,
    CERT,
    DemandOptions,
    ExpiryCube,
    RegisterColumns,
    build_expiry_cube,
    cube_range_for,
    expiry_cube_from_issue_counts,
    forecast_demand,
)
from madoguchi.planning.rules import NO_DATE, age_on_days, day_number
from madoguchi.planning.synthetic import generate_synthetic_register

D = dt.date.fromisoformat
N = int(NO_DATE)


def days(*values: str | None) -> np.ndarray:
    return np.array([day_number(D(v)) if v else N for v in values], dtype=np.int32)


def cube_for(columns: RegisterColumns, start: dt.date, months: int, lead: int = 0) -> ExpiryCube:
    first, last = cube_range_for(start, months, early_periods=lead)
    return build_expiry_cube([columns], first_day=first, last_day=last)


# Each row: (birth, card issued, card printed, cert issued, cert printed) and why.
ROWS = [
    # adult card 2016-02-15 → card 2025-03-31; cert 5th birthday 2020-03-31 (before horizon)
    ("1989-03-31", "2016-02-15", None, "2016-02-15", None),
    # cert renewed 2021-04-10 → 5th birthday 2026-03-31, capped by the card 2025-03-31: counted once
    ("1989-03-31", "2016-02-15", None, "2021-04-10", None),
    # cert issued with a 10-year card in 2020 → cert 2025-05-20 (before the card 2030-05-20)
    ("1970-05-20", "2020-06-01", None, "2020-06-01", None),
    # printed card expiry wins (2025-04-15), no certificate
    ("1990-01-01", "2016-03-01", "2025-04-15", None, None),
    # no card at all
    ("1975-04-04", None, None, None, None),
    # card expiry after the horizon (2031-07-07): not counted
    ("1980-07-07", "2021-07-01", None, None, None),
]


@pytest.fixture
def small() -> RegisterColumns:
    return RegisterColumns(
        birth_day=days(*(r[0] for r in ROWS)),
        card_issued_day=days(*(r[1] for r in ROWS)),
        card_expires_day=days(*(r[2] for r in ROWS)),
        cert_issued_day=days(*(r[3] for r in ROWS)),
        cert_expires_day=days(*(r[4] for r in ROWS)),
    )


def test_each_expiry_counts_in_its_month_and_a_cert_ending_with_its_card_counts_once(
    small: RegisterColumns,
) -> None:
    start = D("2025-03-01")
    forecast = forecast_demand(cube_for(small, start, 3), start=start, months=3)
    assert forecast.labels == ["2025-03", "2025-04", "2025-05"]
    assert forecast.card_renewals.tolist() == [2, 1, 0]
    assert forecast.cert_renewals.tolist() == [0, 0, 1]
    assert forecast.cert_renewals_at_post_office.tolist() == [0, 0, 0]


def test_expiries_before_the_horizon_are_not_counted(small: RegisterColumns) -> None:
    start = D("2025-04-01")
    forecast = forecast_demand(cube_for(small, start, 2), start=start, months=2)
    assert forecast.card_renewals.tolist() == [1, 0]
    assert forecast.cert_renewals.tolist() == [0, 1]


def test_weekly_periods_are_iso_mondays_and_add_up_to_the_months() -> None:
    register = generate_synthetic_register(people=20_000, seed=2, as_of=D("2025-01-01"))
    columns = RegisterColumns(
        register.birth_day, register.card_issued_day, register.cert_issued_day
    )
    start = D("2025-04-01")  # a Tuesday
    first, last = cube_range_for(start, 12, by="week")
    cube = build_expiry_cube([columns], first_day=first, last_day=last)
    weekly = forecast_demand(cube, start=start, months=12, by="week")
    monthly = forecast_demand(cube, start=start, months=12)
    assert weekly.labels[0] == "2025-03-31"
    assert all(D(label).weekday() == 0 for label in weekly.labels)
    assert weekly.labels[-1] == "2026-03-30"
    assert weekly.card_renewals.sum() == monthly.card_renewals.sum() > 0
    assert weekly.cert_renewals.sum() == monthly.cert_renewals.sum() > 0


def test_take_up_and_post_office_share(small: RegisterColumns) -> None:
    start = D("2025-03-01")
    options = DemandOptions(take_up=0.5, post_office_share=0.25)
    forecast = forecast_demand(cube_for(small, start, 3), start=start, months=3, options=options)
    assert forecast.card_renewals.tolist() == [1.0, 0.5, 0.0]
    assert forecast.cert_renewals.tolist() == [0.0, 0.0, 0.5]
    assert forecast.cert_renewals_at_post_office.tolist() == [0.0, 0.0, 0.125]


def test_early_renewal_moves_demand_to_earlier_periods(small: RegisterColumns) -> None:
    start = D("2025-02-01")
    options = DemandOptions(early_renewal=(0.5, 0.3, 0.2))
    cube = cube_for(small, start, 3, lead=2)
    forecast = forecast_demand(cube, start=start, months=3, options=options)
    # card expiries: 2 in March, 1 in April; cert: 1 in May
    assert forecast.labels == ["2025-02", "2025-03", "2025-04"]
    assert forecast.card_renewals == pytest.approx([2 * 0.3 + 1 * 0.2, 2 * 0.5 + 1 * 0.3, 0.5])
    assert forecast.cert_renewals == pytest.approx([0.0, 0.2, 0.3])


def test_bad_options_and_too_small_cube_are_rejected(small: RegisterColumns) -> None:
    with pytest.raises(ValueError):
        DemandOptions(early_renewal=(0.5, 0.4))
    with pytest.raises(ValueError):
        DemandOptions(take_up=1.2)
    with pytest.raises(ValueError):
        DemandOptions(post_office_share=-0.1)
    start = D("2025-03-01")
    cube = cube_for(small, start, 3)
    with pytest.raises(ValueError, match="cube covers"):
        forecast_demand(cube, start=start, months=4)
    with pytest.raises(ValueError, match="cube covers"):
        forecast_demand(cube, start=start, months=3, options=DemandOptions(early_renewal=(0, 1)))
    with pytest.raises(ValueError):
        forecast_demand(cube, start=D("2025-03-02"), months=1)


def test_chunked_scan_equals_one_scan_and_reports_progress() -> None:
    register = generate_synthetic_register(people=30_000, seed=9, as_of=D("2025-01-01"))
    columns = RegisterColumns(
        register.birth_day, register.card_issued_day, register.cert_issued_day
    )
    first, last = cube_range_for(D("2025-01-01"), 36)
    whole = build_expiry_cube([columns], first_day=first, last_day=last)
    seen: list[int] = []
    chunks = [
        RegisterColumns(
            columns.birth_day[i : i + 7_000],
            columns.card_issued_day[i : i + 7_000],
            columns.cert_issued_day[i : i + 7_000],
        )
        for i in range(0, 30_000, 7_000)
    ]
    chunked = build_expiry_cube(chunks, first_day=first, last_day=last, progress=seen.append)
    assert np.array_equal(whole.counts, chunked.counts)
    assert seen == [7_000, 14_000, 21_000, 28_000, 30_000]
    assert chunked.rows_scanned == 30_000
    assert whole.counts.shape == (last - first + 1, 2, AGE_BAND_COUNT)


def test_age_band_is_the_age_reached_in_the_expiry_year(small: RegisterColumns) -> None:
    start = D("2025-03-01")
    cube = cube_for(small, start, 3)
    card_bands = cube.counts[:, CARD, :].sum(axis=0)
    cert_bands = cube.counts[:, CERT, :].sum(axis=0)
    # born 1989 (2 cards ending 2025: 36) and 1990 (printed 2025-04-15: 35) → band 35-39
    assert card_bands.tolist() == [3.0 if band == 7 else 0.0 for band in range(AGE_BAND_COUNT)]
    # born 1970, certificate ends 2025: 55 → band 55-59
    assert cert_bands.tolist() == [1.0 if band == 11 else 0.0 for band in range(AGE_BAND_COUNT)]


def test_aggregate_cube_for_hand_checked_cohort() -> None:
    counts = np.zeros((1, AGE_BAND_COUNT))
    counts[0, 8] = 12.0  # 12 adults aged 40-44, cards issued January 2016
    counts[0, 1] = 6.0  # 6 children aged 5-9
    first, last = day_number(D("2020-01-01")), day_number(D("2027-12-31"))
    cube = expiry_cube_from_issue_counts(
        first_issue_month=D("2016-01-01"), card_issues=counts, first_day=first, last_day=last
    )
    totals = cube.totals_by_day()
    assert totals[:, CARD].sum() == pytest.approx(18.0)
    assert totals[:, CERT].sum() == pytest.approx(12.0)  # children's certs end with their cards
    start = D("2025-01-01")
    forecast = forecast_demand(cube, start=start, months=13)
    # adults: the 10th birthday after January 2016 → 2025-01 (half of January) … 2026-01 (half)
    assert forecast.card_renewals.sum() == pytest.approx(12.0)
    assert forecast.card_renewals[0] == pytest.approx(12 * 31 / 365 / 2)
    assert cube.counts[:, CARD, 10].sum() == pytest.approx(12.0)  # 50-54 at expiry
    assert cube.counts[:, CARD, 2].sum() == pytest.approx(6.0)  # 10-14 at expiry


def test_aggregate_input_matches_the_row_level_register() -> None:
    # as of 2020-01 no 5-year card has expired yet, so issue dates are first issues
    register = generate_synthetic_register(people=200_000, seed=4, as_of=D("2020-01-01"))
    has_card = register.card_issued_day != NO_DATE
    issued = register.card_issued_day[has_card]
    band = np.minimum(age_on_days(register.birth_day[has_card], issued) // 5, AGE_BAND_COUNT - 1)
    month = issued.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    month -= (2016 - 1970) * 12
    counts = np.zeros((int(month.max()) + 1, AGE_BAND_COUNT))
    np.add.at(counts, (month, band), 1.0)

    start = D("2020-01-01")
    first, last = cube_range_for(start, 120)
    rows = build_expiry_cube(
        [RegisterColumns(register.birth_day, register.card_issued_day, register.card_issued_day)],
        first_day=first,
        last_day=last,
    )
    aggregate = expiry_cube_from_issue_counts(
        first_issue_month=D("2016-01-01"), card_issues=counts, first_day=first, last_day=last
    )
    by_rows = forecast_demand(rows, start=start, months=120)
    by_aggregate = forecast_demand(aggregate, start=start, months=120)
    for kind in ("card_renewals", "cert_renewals"):
        a, b = getattr(by_rows, kind), getattr(by_aggregate, kind)
        assert b.sum() == pytest.approx(a.sum(), rel=0.01)
        big = a > 0.2 * a.max()
        assert np.abs(b[big] - a[big]).max() < 0.15 * a.max()


def test_aggregate_input_is_validated() -> None:
    with pytest.raises(ValueError):
        expiry_cube_from_issue_counts(
            first_issue_month=D("2016-01-01"), card_issues=np.zeros((3, 5)), first_day=0, last_day=1
        )
    with pytest.raises(ValueError):
        expiry_cube_from_issue_counts(
            first_issue_month=D("2016-01-01"),
            card_issues=-np.ones((3, AGE_BAND_COUNT)),
            first_day=0,
            last_day=1,
        )


def _awkward_register(rows: int, seed: int) -> RegisterColumns:
    """Births on 29 February, issue days on/around birthdays and the 2022-04-01 threshold,
    empty issue dates and issue dates before the birth — the corners of the binned kernel."""
    rng = np.random.default_rng(seed)
    birth = rng.integers(day_number(D("1900-01-01")), day_number(D("2025-03-31")), rows)
    feb_29 = [day_number(dt.date(year, 2, 29)) for year in range(1904, 2025, 4)]
    leap = rng.random(rows) < 0.1
    birth[leap] = rng.choice(feb_29, int(leap.sum()))
    birth = birth.astype(np.int32)

    def issued() -> np.ndarray:
        years = rng.integers(0, 60, rows)
        birthday = (birth.astype("datetime64[D]") + (years * 365.2425).astype(int)).astype(np.int64)
        values = birth + rng.integers(-400, 40_000, rows)
        near = rng.random(rows) < 0.3
        values[near] = (birthday + rng.integers(-2, 3, rows))[near]
        threshold = rng.random(rows) < 0.05
        values[threshold] = day_number(D("2022-04-01")) + rng.integers(-1, 2, rows)[threshold]
        values[rng.random(rows) < 0.3] = N
        return values.astype(np.int32)

    return RegisterColumns(birth, issued(), issued())


@pytest.mark.parametrize(
    ("start", "months"), [("2025-04-01", 36), ("1990-01-01", 900), ("2030-02-01", 1)]
)
def test_binned_kernel_counts_as_the_rules_functions(start: str, months: int) -> None:
    register = _awkward_register(150_000, seed=len(start) + months)
    first, last = cube_range_for(D(start), months)
    no_printed = np.full(register.row_count, N, dtype=np.int32)
    # printed-expiry columns (all empty) take the general path through card_and_cert_expiries
    general = RegisterColumns(
        register.birth_day,
        register.card_issued_day,
        register.cert_issued_day,
        card_expires_day=no_printed,
        cert_expires_day=no_printed,
    )
    binned = build_expiry_cube([register], first_day=first, last_day=last)
    reference = build_expiry_cube([general], first_day=first, last_day=last)
    assert binned.counts.sum() > 0
    assert np.array_equal(binned.counts, reference.counts)


def test_binned_kernel_falls_back_on_rows_it_does_not_handle() -> None:
    register = _awkward_register(100_000, seed=3)
    birth = register.birth_day.copy()
    birth[70_000] = N  # a missing birth: no expiries for that row
    first, last = cube_range_for(D("2025-04-01"), 36)
    with_gap = RegisterColumns(birth, register.card_issued_day, register.cert_issued_day)
    no_printed = np.full(register.row_count, N, dtype=np.int32)
    reference = RegisterColumns(
        birth, register.card_issued_day, register.cert_issued_day, no_printed, no_printed
    )
    assert np.array_equal(
        build_expiry_cube([with_gap], first_day=first, last_day=last).counts,
        build_expiry_cube([reference], first_day=first, last_day=last).counts,
    )
    too_early = register.card_issued_day.copy()
    too_early[5] = day_number(D("1800-01-01"))
    with pytest.raises(ValueError, match="day numbers must lie"):
        build_expiry_cube(
            [RegisterColumns(register.birth_day, too_early, register.cert_issued_day)],
            first_day=first,
            last_day=last,
        )
