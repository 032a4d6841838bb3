"""Kept results (`forecasts.kept`): what was pickled reads back only under the same version and
kind, anything else — not a pickle, another layout, another version, another kind — reads as not
kept; keeping again replaces the row."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import pytest

from madoguchi.core import clock
from madoguchi.forecasts.kept import keep, pickled, unpickled
from madoguchi.forecasts.models import KeptDashboard
from tests.offices import factories as offices


@dataclass(frozen=True)
class Figures:
    n: int


def test_a_pickled_result_reads_back_under_its_version_and_kind() -> None:
    assert unpickled(pickled(Figures(3), version="v1"), kind=Figures, version="v1") == Figures(3)
    assert unpickled(memoryview(pickled((1, 2), version=5)), kind=tuple, version=5) == (1, 2)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"not a pickle", id="not-a-pickle"),
        pytest.param(pickled(Figures(3), version="v0"), id="another-version"),
        pytest.param(pickled("figures", version="v1"), id="another-kind"),
        pytest.param(pickle.dumps(("v1", Figures(3), None, None)), id="another-layout"),
        pytest.param(pickle.dumps(Figures(3)), id="no-version"),
        pytest.param(pickled(Figures(3), version="v1")[:-3], id="cut-short"),
    ],
)
def test_anything_else_reads_as_not_kept(payload: bytes) -> None:
    assert unpickled(payload, kind=Figures, version="v1") is None


@pytest.mark.django_db
def test_keeping_again_replaces_the_row() -> None:
    town = offices.municipality(code="999998", name="きぼう町")

    def kept(n: int) -> KeptDashboard:
        return keep(
            KeptDashboard,
            municipality=town,
            choices_key="k",
            defaults={
                "inputs_digest": f"{n}" * 64,
                "built_at": clock.now(),
                "build_seconds": 0.1,
                "payload": pickled(Figures(n), version="v1"),
            },
        )

    first, second = kept(1), kept(2)
    assert first.pk == second.pk
    row = KeptDashboard.objects.get()
    assert row.inputs_digest == "2" * 64
    assert unpickled(row.payload, kind=Figures, version="v1") == Figures(2)
