"""The session store: Django's database sessions, the row read by a statement compiled once
per connection (`core.compiled.KeptRead`) — every signed-in request reads its session first.
The same row, the same answer: a session whose expiry has passed is no session (its key
forgotten, as Django's store does). `SESSION_ENGINE = "madoguchi.core.sessions"`."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session

from madoguchi.core import clock
from madoguchi.core.compiled import KeptRead

_BY_KEY = KeptRead(Session, "session_key")


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Any:
        session = _BY_KEY.get(self.session_key)
        if session is None or session.expire_date <= clock.now():
            self._session_key = None
            return None
        return session
