import datetime as dt

import numpy as np
import pytest

from madoguchi.planning.rules import NO_DATE, card_expiry_days, day_number, years_of_days
from madoguchi.planning.synthetic import (
    SyntheticRegister,
    generate_synthetic_register,
    iter_synthetic_register,
)

AS_OF = dt.date(2025, 7, 1)
TODAY = day_number(AS_OF)


@pytest.fixture(scope="module")
def register() -> SyntheticRegister:
    return generate_synthetic_register(people=100_000, seed=7, as_of=AS_OF)


def test_same_seed_gives_the_same_register() -> None:
    a = generate_synthetic_register(people=5_000, seed=3, as_of=AS_OF)
    b = generate_synthetic_register(people=5_000, seed=3, as_of=AS_OF)
    c = generate_synthetic_register(people=5_000, seed=4, as_of=AS_OF)
    assert np.array_equal(a.birth_day, b.birth_day)
    assert np.array_equal(a.card_issued_day, b.card_issued_day)
    assert np.array_equal(a.cert_issued_day, b.cert_issued_day)
    assert not np.array_equal(a.birth_day, c.birth_day)


def test_chunks_concatenate_to_the_whole_register() -> None:
    whole = generate_synthetic_register(people=2_500, seed=5, as_of=AS_OF, chunk_rows=1_000)
    chunks = list(iter_synthetic_register(people=2_500, seed=5, as_of=AS_OF, chunk_rows=1_000))
    assert [c.person_count for c in chunks] == [1_000, 1_000, 500]
    assert np.array_equal(whole.birth_day, np.concatenate([c.birth_day for c in chunks]))
    assert whole.person_count == 2_500


def test_dates_are_consistent(register: SyntheticRegister) -> None:
    card, cert, birth = register.card_issued_day, register.cert_issued_day, register.birth_day
    has_card, has_cert = card != NO_DATE, cert != NO_DATE
    assert register.person_count == len(birth) == len(card) == len(cert)
    assert birth.dtype == card.dtype == cert.dtype == np.int32
    assert (birth <= TODAY).all()
    assert (card[has_card] >= birth[has_card]).all()
    assert (card[has_card] <= TODAY).all()
    assert (card[has_card] >= day_number(dt.date(2016, 1, 1))).all()
    # a certificate needs a card and never predates it
    assert not (has_cert & ~has_card).any()
    assert (cert[has_cert] >= card[has_cert]).all()
    assert (cert[has_cert] <= TODAY).all()


def test_about_79_percent_hold_a_card_fewer_among_infants(register: SyntheticRegister) -> None:
    has_card = register.card_issued_day != NO_DATE
    assert 0.76 < has_card.mean() < 0.82
    age_years = (TODAY - register.birth_day) / 365.2425
    assert has_card[age_years < 5].mean() < has_card[(age_years > 30) & (age_years < 60)].mean()


def test_most_certificates_are_issued_with_the_card_some_renewed_later(
    register: SyntheticRegister,
) -> None:
    has_cert = register.cert_issued_day != NO_DATE
    same = register.cert_issued_day[has_cert] == register.card_issued_day[has_cert]
    assert 0.7 < same.mean() < 0.999


def test_age_pyramid_is_older_than_younger(register: SyntheticRegister) -> None:
    age_years = (TODAY - register.birth_day) / 365.2425
    share_0_14 = (age_years < 15).mean()
    share_65_plus = (age_years >= 65).mean()
    assert 0.09 < share_0_14 < 0.14
    assert 0.26 < share_65_plus < 0.33
    assert age_years.max() < 106


def test_issue_dates_follow_the_campaign_waves(register: SyntheticRegister) -> None:
    years = years_of_days(register.card_issued_day)
    per_year = {year: int((years == year).sum()) for year in range(2016, 2026)}
    assert per_year[2022] > 2 * per_year[2018]
    assert per_year[2021] > 2 * per_year[2019]


def test_cards_are_mostly_valid_on_the_as_of_date(register: SyntheticRegister) -> None:
    has_card = register.card_issued_day != NO_DATE
    expiry = card_expiry_days(register.birth_day, register.card_issued_day)
    assert (expiry[has_card] >= TODAY).mean() > 0.9


def test_dates_view_uses_nat_for_none() -> None:
    small = generate_synthetic_register(people=300, seed=1, as_of=AS_OF)
    dates = small.dates()
    missing = small.card_issued_day == NO_DATE
    assert missing.any()
    assert np.isnat(dates["card_issued_on"][missing]).all()
    assert not np.isnat(dates["birth_date"]).any()


def test_empty_and_invalid_sizes() -> None:
    assert generate_synthetic_register(people=0, seed=1, as_of=AS_OF).person_count == 0
    with pytest.raises(ValueError):
        generate_synthetic_register(people=-1, seed=1, as_of=AS_OF)
    with pytest.raises(ValueError):
        generate_synthetic_register(people=10, seed=1, as_of=AS_OF, chunk_rows=0)
