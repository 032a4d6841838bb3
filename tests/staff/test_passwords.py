"""Django's password validators: at least 12 characters, not a common password, not like the
account's own name, not only digits — also in the admin's forms."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from madoguchi.staff.models import StaffUser

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("1", "password_too_short"),
        ("a", "password_too_short"),
        ("password123456", "password_too_common"),
        ("123456789012345", "password_entirely_numeric"),
        ("hanako.yamada1", "password_too_similar"),
    ],
)
def test_weak_passwords_are_refused(password: str, code: str) -> None:
    user = StaffUser(username="hanako.yamada", first_name="Hanako", last_name="Yamada")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert code in [e.code for e in refused.value.error_list]


def test_a_long_unusual_password_is_accepted() -> None:
    user = StaffUser(username="hanako.yamada")
    validate_password("kawa-sora-ringo-42", user)  # raises when refused
