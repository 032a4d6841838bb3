"""Every admin form a person can submit is submitted in a browser test, and every read-only admin
is looked at in one — checked, not hoped (tests/browser/test_form_coverage.py does the same for
the project's own templates, which the admin's forms are not in).

The forms are read off the admin site itself, as the deployment's operator (a superuser of no
municipality: every role's forms are among theirs) sees them: for each registered ModelAdmin its
add form and its change form where it may add or change, each action of its list (Django's
"delete selected", with its confirmation page, among them) and, for the staff accounts, the
password page; an admin where nobody adds or changes anything is `view` — its list and a row's
view page. `SUBMITTED_BY` names the browser test that submits each (or opens it, for `view`) and
the line of that test that opens the form; the test fails when

- the admin site has a form that is not in `SUBMITTED_BY` (a new registration, a new action or
  a newly editable admin needs its browser test),
- `SUBMITTED_BY` names a form the admin site does not have (keep the registry true),
- the named test does not exist, is not a browser test against the live server, or does not
  contain the named line followed, before the next page it opens, by a submit (for `view`: the
  line only — the walk's `Admin.open` checks every page it opens with axe-core).

Not read off the admin site yet, so not gated: a row's own deletion page (its change form's
削除 link, Django's `delete_view`; the list's "delete selected" confirmation is gated, and
submitted for every admin that deletes), its history page (no form), and the password page's
second button (パスワードによる認証の無効化; the page is submitted with パスワードの変更).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.test import RequestFactory

from madoguchi.staff.models import StaffUser
from tests.browser.test_form_coverage import browser_test_code

MANAGER = (
    "tests/browser/test_admin_forms.py::"
    "test_the_manager_submits_every_admin_form_of_the_municipality"
)
OPERATOR = (
    "tests/browser/test_admin_forms.py::"
    "test_the_operator_adds_a_municipality_keeps_groups_and_reads_the_audit_log"
)


def _forms(label: str, path: str, test: str, *, add: str = "", change: str = "") -> dict[str, Any]:
    """A model's add, change and delete-selected entries."""
    return {
        f"{label} add": (add or test, f'admin.open("{path}add/")'),
        f"{label} change": (change or test, f'admin.open(f"{path}{{'),
        f"{label} action delete_selected": (test, f'admin.delete_selected("{path}"'),
    }


SUBMITTED_BY: dict[str, tuple[str, str]] = {
    **_forms("offices.municipality", "offices/municipality/", OPERATOR, change=MANAGER),
    **_forms("offices.procedure", "offices/procedure/", OPERATOR, change=MANAGER),
    **_forms("offices.site", "offices/site/", MANAGER),
    **_forms("offices.openingsession", "offices/openingsession/", MANAGER),
    **_forms("offices.closure", "offices/closure/", MANAGER),
    **_forms("offices.specialopening", "offices/specialopening/", MANAGER),
    **_forms("walkins.queuesettings", "walkins/queuesettings/", MANAGER),
    **_forms("walkins.queueprefix", "walkins/queueprefix/", MANAGER),
    **_forms("issuance.issuancepolicy", "issuance/issuancepolicy/", OPERATOR, change=MANAGER),
    **_forms("forecasts.planningpolicy", "forecasts/planningpolicy/", MANAGER),
    **_forms("forecasts.temporarycounteroption", "forecasts/temporarycounteroption/", MANAGER),
    **_forms("auth.group", "auth/group/", OPERATOR),
    **_forms("staff.staffuser", "staff/staffuser/", MANAGER),
    # the add page's next step is the new account's change page
    "staff.staffuser change": (MANAGER, 'page.select_option("#id_role", Role.OFFICIAL)'),
    "staff.staffuser password": (MANAGER, 'admin.open(f"staff/staffuser/{account.pk}/password/")'),
    "staff.staffuser action reset_second_factor": (
        MANAGER,
        'page.select_option("select[name=action]", "reset_second_factor")',
    ),
    # read only: the list and a row's view page
    "core.auditevent view": (OPERATOR, 'admin.open(f"core/auditevent/{event.pk}/change/")'),
    "reservations.slot view": (MANAGER, '("reservations/slot/", Slot)'),
    "reservations.reservation view": (MANAGER, '("reservations/reservation/", Reservation)'),
    "walkins.queueticket view": (MANAGER, '("walkins/queueticket/", QueueTicket)'),
    "walkins.queueday view": (MANAGER, '("walkins/queueday/", QueueDay)'),
    "issuance.cardrecord view": (MANAGER, '("issuance/cardrecord/", CardRecord)'),
    "issuance.deliveryimport view": (MANAGER, '("issuance/deliveryimport/", DeliveryImport)'),
    "issuance.noticebatch view": (MANAGER, '("issuance/noticebatch/", NoticeBatch)'),
    "issuance.applicationcount view": (MANAGER, '("issuance/applicationcount/", ApplicationCount)'),
}

SUBMITS = (
    'admin.save("',
    "admin.refused(",
    'page.locator("input[name=_save]").click()',
    '"パスワードの変更").click()',
    '"実行").click()',
)
"""What submits a form the walk opened (`Admin.save` and `Admin.refused` click 保存; 実行 runs
the list's action)."""


def admin_forms() -> set[str]:
    """`model action` for every form of the admin site the deployment's operator may submit."""
    request = RequestFactory().get("/admin/")
    request.user = StaffUser(username="operator", is_staff=True, is_superuser=True)
    found = set()
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        adds = model_admin.has_add_permission(request)
        changes = model_admin.has_change_permission(request)
        if adds:
            found.add(f"{label} add")
        if changes:
            found.add(f"{label} change")
            if isinstance(model_admin, UserAdmin):
                found.add(f"{label} password")
        if not adds and not changes:
            found.add(f"{label} view")
        found |= {f"{label} action {name}" for name in model_admin.get_actions(request)}
    return found


def test_every_admin_form_is_submitted_by_a_browser_test() -> None:
    missing = sorted(admin_forms() - SUBMITTED_BY.keys())
    assert missing == [], f"admin forms without a browser test that submits them: {missing}"


def test_the_registry_names_no_admin_form_that_does_not_exist() -> None:
    stale = sorted(SUBMITTED_BY.keys() - admin_forms())
    assert stale == [], f"the registry names admin forms that do not exist: {stale}"


def test_the_scan_tells_editable_read_only_and_actions_apart() -> None:
    """The scan's own control: an editable admin has add and change, a read-only one `view`
    only, and the actions of each are read off its list."""
    found = admin_forms()
    assert {"offices.closure add", "offices.closure change"} <= found
    assert "offices.closure view" not in found
    assert "issuance.cardrecord view" in found
    assert not {"issuance.cardrecord add", "issuance.cardrecord change"} & found
    assert "issuance.cardrecord action delete_selected" not in found
    assert "staff.staffuser action reset_second_factor" in found


@pytest.mark.parametrize("key", sorted(SUBMITTED_BY))
def test_the_named_browser_test_submits_the_admin_form(key: str) -> None:
    node, opens = SUBMITTED_BY[key]
    module, code = browser_test_code(node)
    if key.endswith(" view"):
        read_only = getattr(module, "READ_ONLY", ())
        listed = any(opens == f'("{path}", {model.__name__})' for path, model in read_only)
        walked = listed and any(line.startswith("for path, model in READ_ONLY") for line in code)
        assert walked or any(opens in line for line in code), f"{node} does not open {key}"
        return
    if key.endswith(" action delete_selected"):  # Admin.delete_selected submits both pages
        assert any(opens in line for line in code), f"{node} does not run {opens!r}"
        return
    at = [i for i, line in enumerate(code) if opens in line]
    assert at, f"{node} does not run {opens!r}"
    following = code[at[0] + 1 :]
    until = next(
        (i for i, line in enumerate(following) if line.startswith(("admin.open(", "admin.delete"))),
        len(following),
    )
    submitted = any(s in line for line in following[:until] for s in SUBMITS)
    assert submitted, f"{node}: nothing submits what {opens!r} opened"
