"""The admin (/admin/) shows an account with a municipality only that municipality's rows and
choices; the set-up account without one is not limited there (the staff pages show it nothing)."""

from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.issuance.models import CardStatus
from tests import personas as p
from tests.conftest import login_staff
from tests.issuance import factories as cards

pytestmark = pytest.mark.django_db


def admin_page(world: p.World, name: str, path: str) -> tuple[int, str]:
    client = Client()
    login_staff(client, world.users[name])
    response = client.get(path)
    return response.status_code, response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/offices/site/",
        "/admin/offices/municipality/",
        "/admin/staff/staffuser/",
        "/admin/issuance/cardrecord/",
    ],
)
def test_a_municipal_superuser_sees_only_its_municipality_in_the_admin(
    personas: p.World, path: str
) -> None:
    for owner in (personas.home, personas.foreign):
        cards.card(owner, status=CardStatus.DELIVERED, application_kind="renewal")
    home_markers = {
        "/admin/offices/site/": "みどり本庁舎",
        "/admin/offices/municipality/": p.HOME_NAME,
        "/admin/staff/staffuser/": "official_a",
        "/admin/issuance/cardrecord/": p.HOME_NAME,
    }
    foreign_markers = {
        "/admin/offices/site/": "あおば町役場",
        "/admin/offices/municipality/": p.FOREIGN_NAME,
        "/admin/staff/staffuser/": "foreign_manager",
        "/admin/issuance/cardrecord/": p.FOREIGN_NAME,
    }
    status, page = admin_page(personas, "superuser", path)
    assert status == 200
    assert home_markers[path] in page and foreign_markers[path] not in page
    status, page = admin_page(personas, "superuser_nowhere", path)
    assert status == 200
    assert home_markers[path] in page and foreign_markers[path] in page


def test_another_municipalitys_row_cannot_be_opened_nor_offered_as_a_choice(
    personas: p.World,
) -> None:
    foreign_site = personas.site("c")
    status, _ = admin_page(personas, "superuser", f"/admin/offices/site/{foreign_site.pk}/change/")
    assert status == 302  # the admin's "does not exist" answer: back to the list
    status, page = admin_page(personas, "superuser", "/admin/offices/site/add/")
    assert status == 200
    assert p.HOME_NAME in page and p.FOREIGN_NAME not in page
    user = personas.users["official_a"]
    status, page = admin_page(personas, "superuser", f"/admin/staff/staffuser/{user.pk}/change/")
    assert status == 200
    assert "みどり北支所" in page and "あおば町役場" not in page


def test_only_the_deployments_operators_read_the_whole_audit_log(personas: p.World) -> None:
    status, _page = admin_page(personas, "superuser", "/admin/core/auditevent/")
    assert status == 403  # events carry no municipality: every municipality's would show
    status, page = admin_page(personas, "superuser", "/admin/")
    assert status == 200 and "/admin/core/auditevent/" not in page
    status, _page = admin_page(personas, "superuser_nowhere", "/admin/core/auditevent/")
    assert status == 200


def test_a_municipal_superuser_cannot_make_superusers_or_grant_permissions(
    personas: p.World,
) -> None:
    official = personas.users["official_a"]
    path = f"/admin/staff/staffuser/{official.pk}/change/"
    _status, page = admin_page(personas, "superuser", path)
    assert 'name="role"' in page  # the form is editable otherwise
    for field in ("is_superuser", "user_permissions", "groups"):
        assert f'name="{field}"' not in page, field
    _status, page = admin_page(personas, "superuser_nowhere", path)
    assert 'name="is_superuser"' in page


def test_a_procedure_shared_with_another_municipality_is_changed_by_the_operators_only(
    personas: p.World,
) -> None:
    """Procedures are shared by every municipality on the deployment: one municipality's
    superuser reads them but cannot change, add or delete one (its names, documents and
    minutes are the other municipality's too); the operators can."""
    path = f"/admin/offices/procedure/{personas.pickup.pk}/change/"
    client = Client()
    login_staff(client, personas.users["superuser"])
    page = client.get(path).content.decode()
    assert 'name="name"' not in page and "カードの受け取り" in page  # read-only
    response = client.post(
        path, {"code": "card_pickup", "name": "書き換え", "duration_minutes": 240}
    )
    assert response.status_code == 403
    assert client.get("/admin/offices/procedure/add/").status_code == 403
    delete = f"/admin/offices/procedure/{personas.pickup.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 403
    personas.pickup.refresh_from_db()
    assert (personas.pickup.name, personas.pickup.duration_minutes) == ("カードの受け取り", 20)
    _status, page = admin_page(personas, "superuser_nowhere", path)
    assert 'name="name"' in page


def test_a_municipality_alone_on_its_deployment_changes_its_procedures(
    personas: p.World,
) -> None:
    for key, other in (("c", personas.foreign), ("d", personas.third)):
        personas.sites[key].delete()
        other.staff.all().delete()
        other.delete()
    path = f"/admin/offices/procedure/{personas.pickup.pk}/change/"
    _status, page = admin_page(personas, "superuser", path)
    assert 'name="name"' in page


def test_only_the_deployments_operators_manage_permission_groups(personas: p.World) -> None:
    """A group's permissions reach every account in it, whatever its municipality."""
    for path in ("/admin/auth/group/", "/admin/auth/group/add/"):
        status, _page = admin_page(personas, "superuser", path)
        assert status == 403, path
        status, _page = admin_page(personas, "superuser_nowhere", path)
        assert status == 200, path
    _status, page = admin_page(personas, "superuser", "/admin/")
    assert "/admin/auth/group/" not in page


def test_an_account_added_by_a_municipal_superuser_is_of_its_municipality(
    personas: p.World,
) -> None:
    """So the add page's next step — the new account's change page, for its role and sites —
    opens: the admin shows a municipality's superuser its own municipality's accounts only. The
    operator's new account is of no municipality until the operator gives it one."""
    from madoguchi.staff.models import StaffUser

    password = "yama-umi-sakura-77"
    for name, username in (("superuser", "hanako"), ("superuser_nowhere", "jiro")):
        client = Client()
        login_staff(client, personas.users[name])
        added = client.post(
            "/admin/staff/staffuser/add/",
            {"username": username, "password1": password, "password2": password},
        )
        account = StaffUser.objects.get(username=username)
        assert account.municipality_id == personas.users[name].municipality_id
        assert added.status_code == 302
        assert added["Location"] == f"/admin/staff/staffuser/{account.pk}/change/"
        assert client.get(added["Location"]).status_code == 200
    assert personas.users["superuser"].municipality_id is not None
