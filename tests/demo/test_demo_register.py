"""The demo's register CSV (`demo_register_csv`, written column by column) is, byte for byte,
the file written line by line from the synthetic register: every resident, every date in ISO
form, no date empty, the area by index and seed."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.demo.city import DEMO_AREAS, demo_register_csv
from madoguchi.planning.rules import NO_DATE
from madoguchi.planning.synthetic import generate_synthetic_register


def _line_by_line(*, residents: int, seed: int, today: dt.date) -> bytes:
    register = generate_synthetic_register(people=residents, seed=seed, as_of=today)
    epoch = dt.date(1970, 1, 1)

    def text(day: int) -> str:
        return "" if day == NO_DATE else (epoch + dt.timedelta(days=int(day))).isoformat()

    lines = ["person_id,birth_date,card_issued_on,cert_issued_on,area"]
    for index, (birth, card, cert) in enumerate(
        zip(
            register.birth_day.tolist(),
            register.card_issued_day.tolist(),
            register.cert_issued_day.tolist(),
            strict=True,
        )
    ):
        area = DEMO_AREAS[(index * 7 + seed) % len(DEMO_AREAS)]
        lines.append(f"D{seed:04d}-{index:07d},{text(birth)},{text(card)},{text(cert)},{area}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("residents", "seed", "today"),
    [
        (0, 1, dt.date(2026, 11, 26)),
        (1, 1, dt.date(2026, 11, 26)),
        (2_000, 3, dt.date(2026, 11, 26)),
        (1_500, 7, dt.date(2000, 2, 29)),
    ],
)
def test_the_register_file_is_the_one_written_line_by_line(
    residents: int, seed: int, today: dt.date
) -> None:
    written = demo_register_csv(residents=residents, seed=seed, today=today)
    assert written == _line_by_line(residents=residents, seed=seed, today=today)
    assert written.count(b"\n") == residents + 1
    if residents > 100:
        assert b",," in written  # some resident holds no card: an empty date, as NO_DATE
