import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.planning import rules
from madoguchi.planning.rules import (
    NO_DATE,
    age_on_days,
    card_expiry_date,
    card_expiry_days,
    cert_expiry_date,
    cert_expiry_days,
    date_from_day_number,
    day_number,
    days_from_dates,
    renewal_window_opens_date,
    renewal_window_opens_days,
    renewed_in_window,
)

D = dt.date.fromisoformat
N = int(NO_DATE)

# (why, birth, card issued, printed expiry or None, expected card expiry)
CARD_CASES = [
    (
        "adult, birthday after issue in the issue year",
        "1989-03-31",
        "2016-02-15",
        None,
        "2025-03-31",
    ),
    (
        "issued on the birthday: that birthday does not count",
        "1980-05-05",
        "2016-05-05",
        None,
        "2026-05-05",
    ),
    ("issued the day before the birthday", "1980-05-05", "2016-05-04", None, "2025-05-05"),
    ("29 Feb born, 10th birthday in a common year", "1988-02-29", "2016-03-01", None, "2026-02-28"),
    ("29 Feb born, 10th birthday in a leap year", "1988-02-29", "2018-06-01", None, "2028-02-29"),
    (
        "29 Feb born, issued on 28 Feb of a common year",
        "1988-02-29",
        "2017-02-28",
        None,
        "2027-02-28",
    ),
    (
        "age 19 before 2022-04-01: minor (threshold 20)",
        "2003-01-10",
        "2022-03-31",
        None,
        "2027-01-10",
    ),
    (
        "age 19 from 2022-04-01: adult (threshold 18)",
        "2003-01-10",
        "2022-04-01",
        None,
        "2032-01-10",
    ),
    ("age 17 from 2022-04-01: minor", "2005-01-10", "2022-04-01", None, "2027-01-10"),
    ("18th birthday on 2022-04-01: adult", "2004-04-01", "2022-04-01", None, "2032-04-01"),
    ("18th birthday the day after issue: minor", "2004-04-02", "2022-04-01", None, "2026-04-02"),
    (
        "20th birthday on the issue day before 2022-04: adult",
        "2002-03-31",
        "2022-03-31",
        None,
        "2032-03-31",
    ),
    (
        "day before the 20th birthday before 2022-04: minor",
        "2002-04-01",
        "2022-03-31",
        None,
        "2026-04-01",
    ),
    ("child: 5th birthday", "2015-08-20", "2016-01-15", None, "2020-08-20"),
    ("printed expiry wins", "1990-01-01", "2016-03-01", "2025-12-31", "2025-12-31"),
]


@pytest.mark.parametrize(("why", "birth", "issued", "printed", "expected"), CARD_CASES)
def test_card_expiry_edge_cases(
    why: str, birth: str, issued: str, printed: str | None, expected: str
) -> None:
    scalar = card_expiry_date(
        birth_on=D(birth), card_issued_on=D(issued), printed=D(printed) if printed else None
    )
    assert scalar == D(expected), why
    vector = card_expiry_days(
        [day_number(D(birth))],
        [day_number(D(issued))],
        [day_number(D(printed)) if printed else NO_DATE],
    )
    assert date_from_day_number(int(vector[0])) == D(expected), why


# (why, birth, cert issued, card expiry, renewed in window, printed, expected)
CERT_CASES = [
    (
        "5th birthday after issue",
        "1980-05-05",
        "2016-05-05",
        "2026-05-05",
        False,
        None,
        "2021-05-05",
    ),
    (
        "renewed in the window: 6th birthday, capped by the card",
        "1980-05-05",
        "2021-04-01",
        "2025-11-01",
        True,
        None,
        "2025-11-01",
    ),
    (
        "renewed in the window: 6th birthday",
        "1980-05-05",
        "2021-04-01",
        "2031-05-05",
        True,
        None,
        "2026-05-05",
    ),
    (
        "card of a child ends before the 5th cert birthday",
        "2010-06-01",
        "2019-01-01",
        "2020-06-01",
        False,
        None,
        "2020-06-01",
    ),
    (
        "printed certificate expiry wins, even past the card",
        "1980-05-05",
        "2016-05-05",
        "2026-05-05",
        False,
        "2027-01-01",
        "2027-01-01",
    ),
    ("29 Feb born", "1988-02-29", "2020-02-29", "2030-02-28", False, None, "2025-02-28"),
]


@pytest.mark.parametrize(
    ("why", "birth", "issued", "card", "in_window", "printed", "expected"), CERT_CASES
)
def test_cert_expiry_edge_cases(
    why: str,
    birth: str,
    issued: str,
    card: str,
    in_window: bool,
    printed: str | None,
    expected: str,
) -> None:
    scalar = cert_expiry_date(
        birth_on=D(birth),
        cert_issued_on=D(issued),
        card_expires_on=D(card),
        renewed_in_window=in_window,
        printed=D(printed) if printed else None,
    )
    assert scalar == D(expected), why
    vector = cert_expiry_days(
        [day_number(D(birth))],
        [day_number(D(issued))],
        [day_number(D(card))],
        renewed_in_window=in_window,
        printed_days=[day_number(D(printed)) if printed else NO_DATE],
    )
    assert date_from_day_number(int(vector[0])) == D(expected), why


@pytest.mark.parametrize(
    ("expiry", "opens"),
    [
        ("2025-05-31", "2025-03-01"),  # 28 Feb + 1 day
        ("2024-05-29", "2024-03-01"),  # 29 Feb in a leap year + 1 day
        ("2025-03-31", "2025-01-01"),  # across the year
        ("2025-01-15", "2024-10-16"),
    ],
)
def test_renewal_window_opens_the_day_after_expiry_minus_three_months(
    expiry: str, opens: str
) -> None:
    assert renewal_window_opens_date(D(expiry)) == D(opens)
    vector = renewal_window_opens_days([day_number(D(expiry)), NO_DATE])
    assert date_from_day_number(int(vector[0])) == D(opens)
    assert vector[1] == NO_DATE


def test_renewed_in_window_is_from_the_window_opening_to_expiry() -> None:
    old = D("2026-05-05")
    assert not renewed_in_window(renewed_on=D("2026-02-05"), old_expires_on=old)
    assert renewed_in_window(renewed_on=D("2026-02-06"), old_expires_on=old)
    assert renewed_in_window(renewed_on=old, old_expires_on=old)
    assert not renewed_in_window(renewed_on=D("2026-05-06"), old_expires_on=old)


def test_missing_dates_give_no_date_and_unknown_card_does_not_cap() -> None:
    birth = day_number(D("1980-05-05"))
    issued = day_number(D("2016-05-05"))
    card = card_expiry_days([birth, NO_DATE, birth], [NO_DATE, issued, issued])
    assert card[0] == NO_DATE and card[1] == NO_DATE
    assert date_from_day_number(int(card[2])) == D("2026-05-05")
    cert = cert_expiry_days([birth, birth], [issued, NO_DATE], [NO_DATE, NO_DATE])
    assert date_from_day_number(int(cert[0])) == D("2021-05-05")
    assert cert[1] == NO_DATE


def test_out_of_range_and_non_integer_input_is_rejected() -> None:
    with pytest.raises(ValueError):
        card_expiry_days([day_number(D("1800-01-01"))], [day_number(D("2016-01-01"))])
    with pytest.raises(TypeError):
        card_expiry_days(np.array([1.5]), np.array([2.5]))


def test_day_numbers_match_datetime64() -> None:
    values = np.array(["1969-12-31", "NaT", "2025-07-01"], dtype="datetime64[D]")
    days = days_from_dates(values)
    assert days.tolist() == [-1, int(NO_DATE), day_number(D("2025-07-01"))]
    with pytest.raises(ValueError):
        date_from_day_number(int(NO_DATE))


def test_age_on_days_is_calendar_age() -> None:
    birth = day_number(D("2004-04-01"))
    ages = age_on_days(
        [birth, birth, birth], [day_number(D("2022-03-31")), day_number(D("2022-04-01")), NO_DATE]
    )
    assert ages.tolist() == [17, 18, -1]


def test_feb_29_convention_lives_in_one_constant() -> None:
    assert rules.FEB_29_IN_COMMON_YEARS == (2, 28)
    assert rules.birthday_in_year(D("2000-02-29"), 2023) == D("2023-02-28")
    assert rules.birthday_in_year(D("2000-02-29"), 2024) == D("2024-02-29")


births = st.dates(min_value=D("1900-01-01"), max_value=D("2025-12-31"))


@st.composite
def people(draw: st.DrawFn) -> tuple[dt.date, dt.date, dt.date]:
    birth = draw(births)
    card = draw(st.dates(min_value=max(birth, D("2016-01-01")), max_value=D("2040-12-31")))
    cert = draw(st.dates(min_value=card, max_value=D("2045-12-31")))
    return birth, card, cert


@settings(max_examples=100, deadline=None)
@given(st.lists(people(), min_size=1, max_size=40), st.booleans())
def test_vectorised_rules_equal_the_scalar_reference(
    rows: list[tuple[dt.date, dt.date, dt.date]], in_window: bool
) -> None:
    birth = [day_number(b) for b, _, _ in rows]
    card_issued = [day_number(c) for _, c, _ in rows]
    cert_issued = [day_number(e) for _, _, e in rows]
    card = card_expiry_days(birth, card_issued)
    cert = cert_expiry_days(birth, cert_issued, card, renewed_in_window=in_window)
    window = renewal_window_opens_days(card)
    for i, (b, c, e) in enumerate(rows):
        card_on = card_expiry_date(birth_on=b, card_issued_on=c)
        cert_on = cert_expiry_date(
            birth_on=b, cert_issued_on=e, card_expires_on=card_on, renewed_in_window=in_window
        )
        assert date_from_day_number(int(card[i])) == card_on
        assert date_from_day_number(int(cert[i])) == cert_on
        assert date_from_day_number(int(window[i])) == renewal_window_opens_date(card_on)


@settings(max_examples=100, deadline=None)
@given(people())
def test_expiry_properties(person: tuple[dt.date, dt.date, dt.date]) -> None:
    birth, card_issued, cert_issued = person
    card = card_expiry_date(birth_on=birth, card_issued_on=card_issued)
    cert = cert_expiry_date(birth_on=birth, cert_issued_on=cert_issued, card_expires_on=card)
    # a card always outlives its issue date, by 4 to 10 years
    assert (
        card_issued
        < card
        <= card_issued.replace(year=card_issued.year + 10, day=1) + dt.timedelta(days=40)
    )
    assert cert <= card
    # expiries fall on the birthday (29 Feb → 28 Feb in common years), unless capped by the card
    assert (card.month, card.day) == (birth.month, birth.day) or (
        (birth.month, birth.day) == (2, 29) and (card.month, card.day) == (2, 28)
    )
    uncapped = cert_expiry_date(birth_on=birth, cert_issued_on=cert_issued, card_expires_on=None)
    assert uncapped > cert_issued
    assert cert == min(uncapped, card)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(people(), st.sampled_from([None, D("2026-01-31")]), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_fused_kernel_equals_the_separate_rules(
    rows: list[tuple[tuple[dt.date, dt.date, dt.date], dt.date | None, bool]],
) -> None:
    birth = np.array([day_number(p[0]) for p, _, _ in rows], dtype=np.int32)
    card_issued = np.array([day_number(p[1]) for p, _, _ in rows], dtype=np.int32)
    cert_issued = np.array(
        [day_number(p[2]) if has_cert else N for p, _, has_cert in rows], dtype=np.int32
    )
    printed = np.array([day_number(x) if x else N for _, x, _ in rows], dtype=np.int32)
    card = card_expiry_days(birth, card_issued, printed)
    cert = cert_expiry_days(birth, cert_issued, card, printed_days=printed[::-1].copy())
    fused = rules.card_and_cert_expiries(
        birth, card_issued, cert_issued, printed, printed[::-1].copy()
    )
    assert fused[0].tolist() == card.tolist()
    assert fused[1].tolist() == cert.tolist()
    for i, (person, _, _) in enumerate(rows):
        birth_year = person[0].year
        assert fused[2][i] == date_from_day_number(int(card[i])).year - birth_year
        if cert[i] != NO_DATE:
            assert fused[3][i] == date_from_day_number(int(cert[i])).year - birth_year
