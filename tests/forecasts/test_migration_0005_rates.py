"""forecasts 0005 turns the cost weights of a saved policy into yen per hour: the data it moves.

Run on the module's throw-away database (tests/migration_steps.py): forecasts is taken to 0004
(with only the migrations it depends on), policies are saved with the weights as they were, and
0005 is applied.
"""

from __future__ import annotations

from decimal import Decimal

from tests.migration_steps import MigrationSteps

FORECASTS_BEFORE = [("forecasts", "0004_service_level")]
FORECASTS_AFTER = [("forecasts", "0005_policy_counter_work_rates_sessions")]


def test_0005_turns_each_policys_cost_weights_into_its_evening_and_weekend_rates(
    migration_steps: MigrationSteps,
) -> None:
    at_0004 = migration_steps.migrate(FORECASTS_BEFORE)
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

    after = migration_steps.migrate(FORECASTS_AFTER).get_model("forecasts", "PlanningPolicy")

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
