"""offices 0005 moves the former `name_en` columns into `translations` (the English entries),
and back when reversed.

Run with Django's MigrationExecutor: the database is taken back to 0004, rows are saved with
`name_en` as they were, and 0005 is applied; the schema is brought back to the newest
migrations afterwards (also when the test fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("offices", "0004_municipality_class_and_population")]
AFTER = [("offices", "0005_translations")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to `targets`; the historical models (apps) of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def at_0004() -> Iterator[Any]:
    try:
        yield _migrate(BEFORE)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_0005_keeps_each_english_name_as_the_english_translation(at_0004: Any) -> None:
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

    after = _migrate(AFTER)

    assert after.get_model("offices", "Municipality").objects.get().translations == {
        "en": {"name": "Migration Town"}
    }
    assert after.get_model("offices", "Procedure").objects.get().translations == {
        "en": {"name": "Card pick-up"}
    }
    sites = {s.name: s.translations for s in after.get_model("offices", "Site").objects.all()}
    assert sites == {"本庁舎": {}, "支所": {"en": {"name": "Branch"}}}

    back = _migrate(BEFORE)
    assert {s.name: s.name_en for s in back.get_model("offices", "Site").objects.all()} == {
        "本庁舎": "",
        "支所": "Branch",
    }
