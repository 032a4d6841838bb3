"""Property-based API tests: schemathesis generates requests from the OpenAPI document; no
request may crash the server, and every answer must match the documented schema."""

from __future__ import annotations

import logging
import re
import sys
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
def _data(
    site: Any, slot: Any, no_rate_limits: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """A site with a free slot and a card, so that some generated requests get past validation.

    Like Django's test client, keep the WSGI handler from closing the test's connection (and
    its transaction) at the end of each request.

    The reference data (municipalities, sites, procedures) is kept per process as deployed
    (`offices.selectors`; emptied before each test by tests/conftest.py, and no request here
    changes it): each generated request no longer reads every municipality again.

    Flask is not installed, and `sys.modules` says so at once while these tests run:
    schemathesis's WSGI transport tries `from flask import …` for every request it sends (to
    catch a Flask app's exceptions), and a failed import searches the whole import path again
    each time.

    Django's request log keeps its errors (a 5xx is logged and shown with a failure) but not
    the warning it writes for each of the thousands of 4xx answers these requests are meant to
    get: through pytest's log capture each cost 35–55 µs.
    """
    monkeypatch.setitem(sys.modules, "flask", None)
    request_log = logging.getLogger("django.request")
    log_level = request_log.level
    request_log.setLevel(max(log_level, logging.ERROR))
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 3600
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_log.setLevel(log_level)
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


EDGE_DATES = ("0001-01-01", "9999-12-31")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _variants(value: Any) -> Iterator[Any]:
    """`value` with every date swapped for each edge date, then with a NUL byte in every text."""
    for edge in EDGE_DATES:
        yield _map_strings(value, lambda s, edge=edge: edge if _DATE.match(s) else s)
    yield _map_strings(value, lambda s: s[:1] + "\x00" + s[1:])


def _map_strings(value: Any, change: Any) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
    return value


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_edge_dates_and_nul_bytes_in_generated_requests_get_a_json_4xx(case: Any) -> None:
    """Each generated request again with its dates at 0001-01-01 and 9999-12-31 and with a NUL
    byte in every text value (path, query and body): never a 5xx, every error JSON."""
    parts = ("path_parameters", "query", "body")
    originals = {part: getattr(case, part) for part in parts}
    for part in parts:
        if not originals[part]:
            continue
        for variant in _variants(originals[part]):
            setattr(case, part, variant)
            response = case.call()
            assert response.status_code < 500, (part, variant, response.text[:300])
            if response.status_code >= 400:
                body = response.json()
                assert body["error"] and body["message"], body
        setattr(case, part, originals[part])
