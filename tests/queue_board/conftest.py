from tests.walkins.conftest import hall, traveller

__all__ = ["hall", "traveller"]
