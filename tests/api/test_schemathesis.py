"""Property-based API tests: schemathesis generates requests from the OpenAPI document; no
request may crash the server, and every answer must match the documented schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from madoguchi.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def _data(site: Any, slot: Any, no_rate_limits: None) -> Iterator[None]:
    """A site with a free slot and a card, so that some generated requests get past validation.

    Like Django's test client, keep the WSGI handler from closing the test's connection (and
    its transaction) at the end of each request.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_every_generated_request_without_a_server_error(case: Any) -> None:
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
