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


def test_when_and_how_long_a_kept_result_was_built_is_declared_once() -> None:
    """`built_at` and `build_seconds` live in `BuiltResult`, the one abstract model every result
    `kept_or_built` and the roll-up's reports keep inherits; no kept model declares its own."""
    import ast
    from pathlib import Path

    from madoguchi.forecasts import models

    tree = ast.parse(Path(models.__file__).read_text(encoding="utf-8"))
    declaring = sorted(
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        for statement in node.body
        if isinstance(statement, ast.Assign)
        for target in statement.targets
        if isinstance(target, ast.Name) and target.id in ("built_at", "build_seconds")
    )
    assert declaring == ["BuiltResult", "BuiltResult"]
    for model in (models.KeptReport, models.KeptDashboard, models.KeptRollup):
        assert issubclass(model, models.BuiltResult), model
        assert model._meta.get_field("built_at").verbose_name == "作成日時"
        assert model._meta.get_field("build_seconds").verbose_name == "作成時間（秒）"
