"""The admin shows cards, imports and batches read-only; the issuance policy is edited, audited."""

from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import CardRecord, CardStatus, IssuancePolicy
from madoguchi.issuance.services import policy_for
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import login_staff
from tests.issuance import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user = StaffUser.objects.create_superuser("admin", password="pw", role=Role.ADMINISTRATOR)
    client = Client()
    login_staff(client, user)
    return client


def test_cards_are_listed_and_searched_but_never_edited_or_deleted(admin_client: Client) -> None:
    card = factories.card(status=CardStatus.NOTICE_ISSUED)
    listing = admin_client.get("/admin/issuance/cardrecord/", {"q": card.notice_number or ""})
    assert listing.status_code == 200
    assert card.application_id in listing.content.decode()
    assert admin_client.get("/admin/issuance/cardrecord/add/").status_code == 403
    assert admin_client.get(f"/admin/issuance/cardrecord/{card.pk}/delete/").status_code == 403

    detail = admin_client.get(f"/admin/issuance/cardrecord/{card.pk}/change/")
    assert detail.status_code == 200
    assert 'name="status"' not in detail.content.decode()  # shown, not an input
    admin_client.post(f"/admin/issuance/cardrecord/{card.pk}/change/", {"status": "destroyed"})
    assert CardRecord.objects.get(pk=card.pk).status == CardStatus.NOTICE_ISSUED


def test_imports_and_batches_are_read_only(admin_client: Client) -> None:
    for model in ("deliveryimport", "noticebatch"):
        assert admin_client.get(f"/admin/issuance/{model}/").status_code == 200
        assert admin_client.get(f"/admin/issuance/{model}/add/").status_code == 403


def test_a_policy_change_in_the_admin_is_audited(admin_client: Client) -> None:
    policy = policy_for(factories.municipality())
    response = admin_client.post(
        f"/admin/issuance/issuancepolicy/{policy.pk}/change/",
        {
            "municipality": policy.municipality_id,
            "notice_target_days": 5,
            "notice_limit_days": 10,
            "reminder_after_days": 60,
            "destroy_rule": "after_reminder",
            "destroy_months_after_reminder": 3,
            "destroy_months_after_first_notice": 12,
            "pacing_horizon_weeks": 4,
            "typical_production_lag_days": 30,
        },
    )
    assert response.status_code == 302
    assert IssuancePolicy.objects.get(pk=policy.pk).notice_target_days == 5
    event = AuditEvent.objects.get(action="admin.change", subject_type="issuance.IssuancePolicy")
    assert (event.before or {})["notice_target_days"] == 7
    assert (event.after or {})["notice_target_days"] == 5
