"""The sign-in backend: Django's `ModelBackend` (passwords, permissions), the signed-in
user's row read on each request by a statement compiled once per connection
(`core.compiled.KeptRead`) — the same row and the same answer (None for an id without a row
or an inactive account). `AUTHENTICATION_BACKENDS` names it: a session signed in under
another backend's name is no longer signed in (the member signs in again)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from madoguchi.core.compiled import KeptRead
from madoguchi.staff.models import StaffUser

_BY_ID = KeptRead(StaffUser, "pk")


class StaffBackend(ModelBackend):
    def get_user(self, user_id: Any) -> StaffUser | None:
        user = _BY_ID.get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
