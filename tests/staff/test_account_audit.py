"""Every change to a staff account in the admin is an audit event — role, municipality, sites,
flags and password — and no event ever holds the password hash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from madoguchi.core.models import AuditEvent
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import login_staff
from tests.staff.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db: None) -> Client:
    admin = StaffUser.objects.create_superuser("admin", password=PASSWORD, role=Role.ADMINISTRATOR)
    client = Client()
    login_staff(client, admin)
    return client


def change_form(user: StaffUser, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "role": user.role,
        "municipality": user.municipality_id or "",
        "sites": [s.pk for s in user.sites.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-06-01",
        "date_joined_1": "09:00:00",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def hashes() -> list[str]:
    return list(StaffUser.objects.values_list("password", flat=True))


def no_hash_in_the_log() -> None:
    log = json.dumps(list(AuditEvent.objects.values("before", "after")), ensure_ascii=False)
    assert '"password"' not in log
    for password_hash in hashes():
        assert password_hash.split("$")[-1] not in log


def test_role_municipality_and_sites_changes_are_audited(admin_client: Client, city: Any) -> None:
    member = StaffUser.objects.create_user("hanako", password=PASSWORD, role=Role.OFFICIAL)
    response = admin_client.post(
        f"/admin/staff/staffuser/{member.pk}/change/",
        change_form(
            member, role=Role.MANAGER, municipality=city.municipality.pk, sites=[city.site.pk]
        ),
    )
    assert response.status_code == 302, (
        response.context["adminform"].form.errors.as_json() if response.context else response
    )
    event = AuditEvent.objects.get(action="admin.change", subject_type="staff.StaffUser")
    assert event.actor.endswith(":admin")
    assert event.subject_id == str(member.pk)
    assert (event.before["role"], event.after["role"]) == ("official", "manager")
    assert (event.before["municipality"], event.after["municipality"]) == (
        None,
        city.municipality.pk,
    )
    assert (event.before["sites"], event.after["sites"]) == ([], [city.site.pk])
    no_hash_in_the_log()


def test_a_new_account_and_a_password_change_are_audited_without_the_hash(
    admin_client: Client,
) -> None:
    added = admin_client.post(
        "/admin/staff/staffuser/add/",
        {
            "username": "taro",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert added.status_code == 302
    taro = StaffUser.objects.get(username="taro")
    assert AuditEvent.objects.get(action="admin.add").subject_id == str(taro.pk)

    new_password = "yama-umi-sakura-77"
    changed = admin_client.post(
        f"/admin/staff/staffuser/{taro.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert changed.status_code == 302
    event = AuditEvent.objects.get(action="staff.password_changed")
    assert event.subject_id == str(taro.pk) and event.after == {"usable": True}
    no_hash_in_the_log()


def test_the_admin_refuses_a_weak_password(admin_client: Client) -> None:
    refused = admin_client.post(
        "/admin/staff/staffuser/add/",
        {"username": "jiro", "password1": "a", "password2": "a", "usable_password": "true"},
    )
    assert refused.status_code == 200
    assert not StaffUser.objects.filter(username="jiro").exists()
    assert not AuditEvent.objects.filter(action="admin.add").exists()
