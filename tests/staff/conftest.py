"""Staff sign-in fixtures: a member with a password, and a client that has only passed the
password step."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.staff.models import Role, StaffUser
from tests.issuance import factories

PASSWORD = "kawa-sora-ringo-42"
ADDRESS = "192.0.2.10"


@pytest.fixture
def member(db: None) -> StaffUser:
    """An official of a municipality (an account without one sees no staff page at all)."""
    return StaffUser.objects.create_user(
        "hanako", password=PASSWORD, role=Role.OFFICIAL, municipality=factories.municipality()
    )


@pytest.fixture
def enrolled(member: StaffUser) -> TOTPDevice:
    """The member's confirmed authenticator app."""
    return TOTPDevice.objects.create(user=member, name="認証アプリ", confirmed=True)


def sign_in(client: Client, username: str, password: str, *, address: str = ADDRESS) -> Any:
    """Submit the password step."""
    return client.post(
        "/staff/login/",
        {"username": username, "password": password, "next": "/staff/"},
        REMOTE_ADDR=address,
    )
