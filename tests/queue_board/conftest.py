import datetime as dt

import pytest

from tests.frozen_clock import HALL_NOW
from tests.walkins.conftest import hall

__all__ = ["hall"]


@pytest.fixture
def now() -> dt.datetime:
    """`frozen` holds 10:00 on the walk-in hall's Tuesday here (tests/frozen_clock.py)."""
    return HALL_NOW
