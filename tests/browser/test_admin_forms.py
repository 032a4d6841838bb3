"""In Chromium against a live server: every admin form a person may submit is submitted, and
every admin page on the way is axe-core clean (tests/browser/test_admin_coverage.py names each
form and the test here that submits it). Two walks, one browser context each: the demo city's
manager — its set-up, calendars, queue, policies and staff accounts: each list, each add form
filled and saved, the row then changed in its change form and deleted through the list's
"delete selected" confirmation, a refused input's Japanese message, the read-only records' lists
and view pages — and the deployment's operator (no municipality), who alone adds municipalities,
keeps the permission groups and reads the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Group

from madoguchi.core import clock
from madoguchi.core.models import AuditEvent
from madoguchi.demo.city import DEMO_MUNICIPALITY_CODE
from madoguchi.forecasts.models import PlanningPolicy, TemporaryCounterOption
from madoguchi.issuance.models import (
    ApplicationCount,
    CardRecord,
    DeliveryImport,
    IssuancePolicy,
    NoticeBatch,
)
from madoguchi.offices.models import (
    Closure,
    Municipality,
    OpeningSession,
    Procedure,
    Site,
    SiteKind,
    SpecialOpening,
)
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import QueueDay, QueuePrefix, QueueSettings, QueueTicket
from tests import live_worlds
from tests.conftest import accessible, sign_in_browser
from tests.frozen_clock import frozen_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 11, 26)

READ_ONLY: tuple[tuple[str, Any], ...] = (
    ("reservations/slot/", Slot),
    ("reservations/reservation/", Reservation),
    ("walkins/queueticket/", QueueTicket),
    ("walkins/queueday/", QueueDay),
    ("issuance/cardrecord/", CardRecord),
    ("issuance/deliveryimport/", DeliveryImport),
    ("issuance/noticebatch/", NoticeBatch),
    ("issuance/applicationcount/", ApplicationCount),
)
"""The manager's read-only admins: records that change only through their services."""


class Admin:
    """The admin in `page`: open a page (axe-checked), save a form, delete through the list."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base = f"{base_url}/admin/"

    def open(self, path: str) -> Any:
        self.page.goto(self.base + path)
        accessible(self.page)
        return self.page

    def save(self, returns_to: str) -> None:
        """Click 保存 and land, axe-clean, on `returns_to` (the list, or a change page)."""
        with self.page.expect_navigation():
            self.page.locator("input[name=_save]").click()
        errors = self.page.locator(".errornote, .errorlist").all_inner_texts()
        assert self.page.url == self.base + returns_to, errors
        accessible(self.page)

    def refused(self, message: str) -> None:
        """Click 保存 and stay on the form, which shows `message` (axe-clean)."""
        url = self.page.url
        with self.page.expect_navigation():
            self.page.locator("input[name=_save]").click()
        assert self.page.url == url
        assert message in self.page.locator(".errorlist").all_inner_texts()
        accessible(self.page)

    def delete_selected(self, path: str, pk: int) -> None:
        """The list's "delete selected" action on row `pk`: its confirmation page, then yes.
        The list itself is not checked again here: each walk checks it on the save before."""
        self.page.goto(self.base + path)
        self.page.check(f"input[name=_selected_action][value='{pk}']")
        self.page.select_option("select[name=action]", "delete_selected")
        self.page.get_by_role("button", name="実行").click()
        self.page.wait_for_url(self.base + path)
        accessible(self.page)
        self.page.get_by_role("button", name="はい、大丈夫です").click()
        self.page.wait_for_url(self.base + path)
        assert "削除しました" in self.page.locator(".messagelist").inner_text()
        accessible(self.page)


def test_the_manager_submits_every_admin_form_of_the_municipality(
    page: Any, live_server: Any
) -> None:
    with frozen_at(clock.at(TODAY, dt.time(10, 0)), tick=True):
        live_worlds.demo_city_signed_in(page, live_server.url, residents=200, seed=5, today=TODAY)
        municipality = Municipality.objects.get(code=DEMO_MUNICIPALITY_CODE)
        main = Site.objects.get(municipality=municipality, kind=SiteKind.MAIN_OFFICE)
        admin = Admin(page, live_server.url)
        admin.open("")

        # the municipality and a procedure: changed
        admin.open(f"offices/municipality/{municipality.pk}/change/")
        page.fill("#id_name__en", "Demo City (My Number desk)")
        admin.save("offices/municipality/")
        municipality.refresh_from_db()
        assert municipality.translations["en"]["name"] == "Demo City (My Number desk)"
        procedure = Procedure.objects.order_by("sort_order", "pk").first()
        assert procedure is not None
        admin.open(f"offices/procedure/{procedure.pk}/change/")
        page.fill("#id_documents", "マイナンバーカード、通知書")
        admin.save("offices/procedure/")
        procedure.refresh_from_db()
        assert procedure.documents == "マイナンバーカード、通知書"

        # a site added, changed, deleted
        admin.open("offices/site/add/")
        page.select_option("#id_municipality", str(municipality.pk))
        page.fill("#id_name", "東出張所")
        page.select_option("#id_kind", SiteKind.BRANCH_OFFICE)
        page.fill("#id_address", "デモ市東町1-1")
        page.check(f"#id_procedures input[value='{procedure.pk}']")
        admin.save("offices/site/")
        site = Site.objects.get(municipality=municipality, name="東出張所")
        assert list(site.procedures.all()) == [procedure]
        admin.open(f"offices/site/{site.pk}/change/")
        page.fill("#id_postal_code", "999-0001")
        page.locator("#counters-group .add-row a").click()  # a counter, in the stacked inline
        page.fill("#id_counters-0-name", "1番窓口")
        accessible(page)
        admin.save("offices/site/")
        site.refresh_from_db()
        assert site.postal_code == "999-0001"
        assert [c.name for c in site.counters.all()] == ["1番窓口"]
        # weekly hours, a closure (first refused: its last day before its first), a special
        # opening — each added, changed, deleted
        admin.open("offices/openingsession/add/")
        page.select_option("#id_site", str(site.pk))
        page.select_option("#id_weekday", "2")
        page.select_option("#id_kind", "weekday")
        page.fill("#id_starts_at_time", "09:00")
        page.fill("#id_ends_at_time", "12:00")
        page.fill("#id_counters_open", "1")
        admin.save("offices/openingsession/")
        session = OpeningSession.objects.get(site=site)
        assert (session.weekday, session.starts_at_time) == (2, dt.time(9, 0))
        admin.open(f"offices/openingsession/{session.pk}/change/")
        page.fill("#id_ends_at_time", "12:30")
        admin.save("offices/openingsession/")
        session.refresh_from_db()
        assert session.ends_at_time == dt.time(12, 30)
        admin.delete_selected("offices/openingsession/", session.pk)
        assert not OpeningSession.objects.filter(pk=session.pk).exists()

        admin.open("offices/closure/add/")
        page.select_option("#id_municipality", str(municipality.pk))
        page.select_option("#id_site", str(site.pk))
        page.select_option("#id_kind", "other")
        page.fill("#id_first_day", "2027-01-20")
        page.fill("#id_last_day", "2027-01-19")
        page.fill("#id_reason", "庁舎の点検")
        admin.refused("終了日が開始日より前になっています。")
        assert not Closure.objects.filter(site=site).exists()
        page.fill("#id_last_day", "2027-01-21")
        admin.save("offices/closure/")
        closure = Closure.objects.get(site=site)
        assert (closure.first_day, closure.last_day) == (dt.date(2027, 1, 20), dt.date(2027, 1, 21))
        admin.open(f"offices/closure/{closure.pk}/change/")
        page.fill("#id_reason__en", "Building inspection")
        admin.save("offices/closure/")
        closure.refresh_from_db()
        assert closure.translations == {"en": {"reason": "Building inspection"}}
        admin.delete_selected("offices/closure/", closure.pk)
        assert not Closure.objects.filter(pk=closure.pk).exists()

        admin.open("offices/specialopening/add/")
        page.select_option("#id_site", str(site.pk))
        page.fill("#id_day", "2027-01-23")
        page.fill("#id_starts_at_time", "09:00")
        page.fill("#id_ends_at_time", "12:00")
        page.fill("#id_counters_open", "1")
        admin.save("offices/specialopening/")
        opening = SpecialOpening.objects.get(site=site)
        admin.open(f"offices/specialopening/{opening.pk}/change/")
        page.fill("#id_reason", "休日開庁")
        admin.save("offices/specialopening/")
        opening.refresh_from_db()
        assert opening.reason == "休日開庁"
        admin.delete_selected("offices/specialopening/", opening.pk)
        assert not SpecialOpening.objects.filter(pk=opening.pk).exists()

        # the queue's settings and a prefix at the new site
        admin.open("walkins/queuesettings/add/")
        page.select_option("#id_site", str(site.pk))
        page.fill("#id_early_minutes", "20")
        admin.save("walkins/queuesettings/")
        settings = QueueSettings.objects.get(site=site)
        assert settings.early_minutes == 20
        admin.open(f"walkins/queuesettings/{settings.pk}/change/")
        page.fill("#id_recalls_before_no_show", "3")
        admin.save("walkins/queuesettings/")
        settings.refresh_from_db()
        assert settings.recalls_before_no_show == 3
        admin.delete_selected("walkins/queuesettings/", settings.pk)
        assert not QueueSettings.objects.filter(pk=settings.pk).exists()

        admin.open("walkins/queueprefix/add/")
        page.select_option("#id_site", str(site.pk))
        page.select_option("#id_procedure", str(procedure.pk))
        page.fill("#id_prefix", "E")
        admin.save("walkins/queueprefix/")
        prefix = QueuePrefix.objects.get(site=site)
        admin.open(f"walkins/queueprefix/{prefix.pk}/change/")
        page.fill("#id_prefix", "F")
        admin.save("walkins/queueprefix/")
        prefix.refresh_from_db()
        assert prefix.prefix == "F"
        admin.delete_selected("walkins/queueprefix/", prefix.pk)
        assert not QueuePrefix.objects.filter(pk=prefix.pk).exists()

        # the site, deleted last (its calendar and queue rows went first)
        admin.delete_selected("offices/site/", site.pk)
        assert not Site.objects.filter(pk=site.pk).exists()

        # the policies: the issuance policy and a temporary counter changed, the planning
        # policy added
        issuance = IssuancePolicy.objects.get(municipality=municipality)
        admin.open(f"issuance/issuancepolicy/{issuance.pk}/change/")
        page.fill("#id_pacing_horizon_weeks", str(issuance.pacing_horizon_weeks + 1))
        admin.save("issuance/issuancepolicy/")
        before = issuance.pacing_horizon_weeks
        issuance.refresh_from_db()
        assert issuance.pacing_horizon_weeks == before + 1
        admin.open("forecasts/planningpolicy/add/")
        page.select_option("#id_municipality", str(municipality.pk))
        page.fill("#id_take_up_percent", "40")
        admin.save("forecasts/planningpolicy/")
        planning = PlanningPolicy.objects.get(municipality=municipality)
        assert planning.take_up_percent == 40
        admin.open(f"forecasts/planningpolicy/{planning.pk}/change/")
        page.fill("#id_take_up_percent", "45")
        admin.save("forecasts/planningpolicy/")
        planning.refresh_from_db()
        assert planning.take_up_percent == 45
        admin.delete_selected("forecasts/planningpolicy/", planning.pk)
        assert not PlanningPolicy.objects.filter(pk=planning.pk).exists()

        admin.open("forecasts/temporarycounteroption/add/")
        page.select_option("#id_municipality", str(municipality.pk))
        page.fill("#id_name", "駅前臨時窓口")
        page.fill("#id_opens_on", "2027-02-01")
        page.fill("#id_closes_on", "2027-02-28")
        admin.save("forecasts/temporarycounteroption/")
        option = TemporaryCounterOption.objects.get(municipality=municipality, name="駅前臨時窓口")
        admin.open(f"forecasts/temporarycounteroption/{option.pk}/change/")
        page.fill("#id_name__en", "Station temporary counter")
        admin.save("forecasts/temporarycounteroption/")
        option.refresh_from_db()
        assert option.translations == {"en": {"name": "Station temporary counter"}}
        admin.delete_selected("forecasts/temporarycounteroption/", option.pk)
        assert not TemporaryCounterOption.objects.filter(pk=option.pk).exists()

        # a staff account: added (user name and password), then its role and site; its
        # password set again; its second factor reset; deleted
        admin.open("staff/staffuser/add/")
        page.fill("#id_username", "demo-newcomer")
        page.fill("#id_password1", "a-long-passphrase-2026")
        page.fill("#id_password2", "a-long-passphrase-2026")
        with page.expect_navigation():
            page.locator("input[name=_save]").click()
        account = StaffUser.objects.get(username="demo-newcomer")
        assert page.url == admin.base + f"staff/staffuser/{account.pk}/change/"
        accessible(page)
        page.select_option("#id_role", Role.OFFICIAL)
        page.select_option("#id_municipality", str(municipality.pk))
        page.check(f"#id_sites input[value='{main.pk}']")
        admin.save("staff/staffuser/")
        account.refresh_from_db()
        assert (account.role, account.municipality_id) == (Role.OFFICIAL, municipality.pk)
        assert list(account.sites.all()) == [main]
        admin.open(f"staff/staffuser/{account.pk}/password/")
        page.fill("#id_password1", "another-passphrase-2027")
        page.fill("#id_password2", "another-passphrase-2027")
        page.get_by_role("button", name="パスワードの変更").click()
        admin.page.wait_for_url(admin.base + f"staff/staffuser/{account.pk}/change/")
        accessible(page)
        account.refresh_from_db()
        assert account.check_password("another-passphrase-2027")
        assert AuditEvent.objects.filter(
            action="staff.password_changed", subject_id=str(account.pk)
        ).exists()
        admin.open("staff/staffuser/")
        page.check(f"input[name=_selected_action][value='{account.pk}']")
        page.select_option("select[name=action]", "reset_second_factor")
        page.get_by_role("button", name="実行").click()
        page.wait_for_url(admin.base + "staff/staffuser/")
        assert "1 件のアカウントの二要素認証をリセットしました。" in page.inner_text(".messagelist")
        accessible(page)
        assert AuditEvent.objects.filter(
            action="staff.otp.reset", subject_id=str(account.pk)
        ).exists()
        admin.delete_selected("staff/staffuser/", account.pk)
        assert not StaffUser.objects.filter(pk=account.pk).exists()

        # the records kept by their services: lists and view pages, read only
        for path, model in READ_ONLY:
            admin.open(path)
            row = model.objects.order_by("pk").first()
            if row is not None:
                admin.open(f"{path}{row.pk}/change/")
                assert page.locator("input[name=_save]").count() == 0


def test_the_operator_adds_a_municipality_keeps_groups_and_reads_the_audit_log(
    page: Any, live_server: Any
) -> None:
    with frozen_at(clock.at(TODAY, dt.time(10, 0)), tick=True):
        live_worlds.demo_city(residents=200, seed=5, today=TODAY)
        operator = StaffUser.objects.create_superuser("operator", password="operator-pass-2026")
        sign_in_browser(page, live_server.url, operator)
        admin = Admin(page, live_server.url)
        admin.open("")

        admin.open("offices/municipality/add/")
        page.fill("#id_code", "999986")  # its check digit is 9
        page.fill("#id_name", "試験町")
        admin.refused("地方公共団体コードの検査数字（6桁目）が正しくありません。")
        assert not Municipality.objects.filter(name="試験町").exists()
        page.fill("#id_code", "999989")
        admin.save("offices/municipality/")
        town = Municipality.objects.get(code="999989")
        assert town.name == "試験町"
        admin.open("offices/procedure/add/")
        page.fill("#id_code", "pin-reset-test")
        page.fill("#id_name", "暗証番号の再設定（試験）")
        page.fill("#id_duration_minutes", "10")
        admin.save("offices/procedure/")
        added = Procedure.objects.get(code="pin-reset-test")
        assert added.allowed_site_kinds == []  # left empty: every kind of site
        admin.delete_selected("offices/procedure/", added.pk)
        assert not Procedure.objects.filter(pk=added.pk).exists()
        admin.open("issuance/issuancepolicy/add/")
        page.select_option("#id_municipality", str(town.pk))
        page.fill("#id_notice_target_days", "10")
        admin.save("issuance/issuancepolicy/")
        policy = IssuancePolicy.objects.get(municipality=town)
        assert policy.notice_target_days == 10
        admin.delete_selected("issuance/issuancepolicy/", policy.pk)
        admin.delete_selected("offices/municipality/", town.pk)
        assert not Municipality.objects.filter(pk=town.pk).exists()

        admin.open("auth/group/add/")
        page.fill("#id_name", "監査補助")
        admin.save("auth/group/")
        group = Group.objects.get(name="監査補助")
        admin.open(f"auth/group/{group.pk}/change/")
        page.fill("#id_name", "監査補助（閲覧）")
        admin.save("auth/group/")
        group.refresh_from_db()
        assert group.name == "監査補助（閲覧）"
        admin.delete_selected("auth/group/", group.pk)
        assert not Group.objects.filter(pk=group.pk).exists()

        # an account's groups and permissions, which only an operator hands out: checkboxes
        admin.open(f"staff/staffuser/{operator.pk}/change/")
        assert page.locator("#id_user_permissions input[type=checkbox]").count() > 50

        admin.open("core/auditevent/")
        event = AuditEvent.objects.filter(action="admin.delete").latest("at")
        admin.open(f"core/auditevent/{event.pk}/change/")
        assert page.locator("input[name=_save]").count() == 0
