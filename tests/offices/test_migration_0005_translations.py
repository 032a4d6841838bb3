"""offices 0005 moves the former `name_en` columns into `translations` (the English entries),
and back when reversed.

Run on the module's throw-away database (tests/migration_steps.py): offices is taken to 0004
(only offices' own migrations apply), rows are saved with `name_en` as they were, and 0005 is
applied, then reversed.
"""

from __future__ import annotations

from tests.migration_steps import MigrationSteps

BEFORE = [("offices", "0004_municipality_class_and_population")]
AFTER = [("offices", "0005_translations")]


def test_0005_keeps_each_english_name_as_the_english_translation(
    migration_steps: MigrationSteps,
) -> None:
    at_0004 = migration_steps.migrate(BEFORE)
    municipality = at_0004.get_model("offices", "Municipality")
    procedure = at_0004.get_model("offices", "Procedure")
    site = at_0004.get_model("offices", "Site")
    town = municipality.objects.create(code="999991", name="移行町", name_en="Migration Town")
    procedure.objects.create(
        code="card_pickup", name="カードの受け取り", name_en="Card pick-up", duration_minutes=20
    )
    site.objects.create(municipality=town, name="本庁舎", kind="main_office", address="1-1")
    site.objects.create(
        municipality=town, name="支所", name_en="Branch", kind="branch_office", address="2-2"
    )

    after = migration_steps.migrate(AFTER)

    assert after.get_model("offices", "Municipality").objects.get().translations == {
        "en": {"name": "Migration Town"}
    }
    assert after.get_model("offices", "Procedure").objects.get().translations == {
        "en": {"name": "Card pick-up"}
    }
    sites = {s.name: s.translations for s in after.get_model("offices", "Site").objects.all()}
    assert sites == {"本庁舎": {}, "支所": {"en": {"name": "Branch"}}}

    back = migration_steps.migrate(BEFORE)
    assert {s.name: s.name_en for s in back.get_model("offices", "Site").objects.all()} == {
        "本庁舎": "",
        "支所": "Branch",
    }
