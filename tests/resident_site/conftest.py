from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from tests.resident_site import factories


@pytest.fixture
def frozen() -> Iterator[Any]:
    with time_machine.travel(factories.NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def city(db: None, frozen: Any) -> factories.City:
    return factories.city()
