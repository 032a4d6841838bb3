"""The pair `tests/browser/test_kept_world_then_live_server.py` runs in a pytest of its own, in
this order: a test holding a kept world (`personas`, tests/personas.py), then a live-server
browser test that commits rows of its own and reads them in Chromium. Not collected by the
suite (the file's name does not start with `test_`): the order is the point. The browser test
needs Playwright's `page`: with `live_server` alone (the page read with urllib) the pair passes
even without the hook, so it would prove nothing."""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.staff.models import Role
from tests.frozen_clock import frozen_at
from tests.offices import factories as offices
from tests.resident_site import factories


@pytest.mark.django_db
def test_a_test_holding_the_personas_world(personas: Any) -> None:
    assert personas.users["manager"].role == Role.MANAGER


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_live_server_test_commits_its_rows_and_reads_them(page: Any, live_server: Any) -> None:
    with frozen_at(factories.NOW, tick=True):
        site = offices.site(offices.municipality(), name="みどり本庁舎")
        page.goto(f"{live_server.url}/")
        assert site.name in page.content()
