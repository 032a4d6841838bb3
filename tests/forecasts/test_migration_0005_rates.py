"""forecasts 0005 turns the cost weights of a saved policy into yen per hour: the data it moves.

Run with Django's MigrationExecutor: the database is taken back to 0004, policies are saved
with the weights as they were, and 0005 is applied; the schema is brought back to the newest
migrations afterwards (also when the test fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

FORECASTS_BEFORE = ("forecasts", "0004_service_level")
FORECASTS_AFTER = ("forecasts", "0005_policy_counter_work_rates_sessions")


def _with_other_apps_at_newest(forecasts: tuple[str, str]) -> list[tuple[str, str]]:
    """`forecasts` at the given migration, every other app at its newest: the historical models
    then have the columns other apps' later migrations added (a municipality's class, NOT NULL)."""
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    return [leaf for leaf in leaves if leaf[0] != "forecasts"] + [forecasts]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to `targets`; the historical models (apps) of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def at_0004() -> Iterator[Any]:
    try:
        yield _migrate(_with_other_apps_at_newest(FORECASTS_BEFORE))
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_0005_turns_each_policys_cost_weights_into_its_evening_and_weekend_rates(
    at_0004: Any,
) -> None:
    municipality = at_0004.get_model("offices", "Municipality")
    policy = at_0004.get_model("forecasts", "PlanningPolicy")
    weighted = municipality.objects.create(code="999991", name="重み町")
    plain = municipality.objects.create(code="999992", name="既定町")
    policy.objects.create(
        municipality=weighted,
        evening_cost_weight=Decimal("2.00"),
        weekend_cost_weight=Decimal("1.10"),
    )
    policy.objects.create(municipality=plain)  # the weights' defaults: 1.25 and 1.50

    after = _migrate(_with_other_apps_at_newest(FORECASTS_AFTER)).get_model(
        "forecasts", "PlanningPolicy"
    )

    rates = {
        row.municipality.name: {
            f"{who}_{kind}": getattr(row, f"{who}_{kind}_yen")
            for who in ("official", "contractor")
            for kind in ("weekday", "evening", "saturday", "sunday")
        }
        for row in after.objects.select_related("municipality")
    }
    # weekday rates are the new fields' defaults: 3,000 yen (officials), 2,400 (contractors)
    assert rates["重み町"] == {
        "official_weekday": 3000,
        "official_evening": 6000,  # × 2.00
        "official_saturday": 3300,  # × 1.10
        "official_sunday": 3300,
        "contractor_weekday": 2400,
        "contractor_evening": 4800,
        "contractor_saturday": 2640,
        "contractor_sunday": 2640,
    }
    assert rates["既定町"] == {
        "official_weekday": 3000,
        "official_evening": 3750,  # × 1.25
        "official_saturday": 4500,  # × 1.50
        "official_sunday": 4500,
        "contractor_weekday": 2400,
        "contractor_evening": 3000,
        "contractor_saturday": 3600,
        "contractor_sunday": 3600,
    }
    assert not any(f.name.endswith("_cost_weight") for f in after._meta.get_fields())
