"""The access rule beyond the matrix: steps a municipality keeps for officials, the services'
own checks, the refusal page's language, the access record and no-store on refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.issuance import services as issuance
from madoguchi.issuance.models import CardRecord, CardStatus, IdDocumentClass, NoticeBatch
from madoguchi.reservations.models import Reservation, ReservationStatus, Slot
from madoguchi.staff import access
from madoguchi.walkins.services import check_in_booked_visitor, issue_ticket
from tests import personas as p
from tests.conftest import login_staff
from tests.issuance import factories as cards
from tests.reservations import factories as slots
from tests.resident_site.factories import VISIT_DAY
from tests.walkins.factories import call_to_a_counter

pytestmark = pytest.mark.django_db

HOLDER: dict[str, Any] = {
    "is_proxy": "0",
    "id_documents": ["passport"],
    "old_card": "punched",
    "pin_setting": "holder",
    "e_certificates": "both",
    "identity_checked": "on",
}
PROXY: dict[str, Any] = {
    "is_proxy": "1",
    "proxy_reason": "hospital_care",
    "proxy_documents": ["delegation", "reason_proof", "holder_id", "proxy_id"],
    "id_documents": ["health_insurance", "pension"],
    "old_card": "punched",
    "pin_setting": "inquiry_form",
    "e_certificates": "user_auth",
    "identity_checked": "on",
}


def signed_in(world: p.World, name: str, language: str = "ja") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies["django_language"] = language
    login_staff(client, world.users[name])
    return client


def checked_in_pickup(world: p.World, frozen: Any) -> Reservation:
    card = cards.card(world.home, status=CardStatus.NOTICE_ISSUED)
    slot = slots.slot(world.site("a"), world.pickup, day=VISIT_DAY, time="10:00")
    from madoguchi.reservations import services

    booked = services.book_reservation(
        slot_id=slot.pk,
        procedure_code="card_pickup",
        applicant=slots.pickup(notice=card.notice_number or "", birth=card.birth_date),
        actor=Actor.resident(),
    )
    frozen.move_to(p.on_the_day(VISIT_DAY))
    check_in_booked_visitor(code=booked.code, actor=Actor.system("test"))
    call_to_a_counter(world.site("a"))  # the hand-over happens at a counter (one visit)
    return booked


def card_status(booked: Reservation) -> str:
    return CardRecord.objects.get(reservation_code=booked.code).status


def keep(world: p.World, steps: list[str]) -> None:
    world.home.official_required_steps = steps
    world.home.save()


def test_a_contractor_hands_over_where_the_municipality_delegates_it(
    personas: p.World, frozen: Any
) -> None:
    keep(personas, ["proxy_eligibility"])  # only a proxy's eligibility stays with officials
    booked = checked_in_pickup(personas, frozen)
    response = signed_in(personas, "contractor_a").post(
        f"/staff/reservations/{booked.code}/hand-over/", HOLDER
    )
    assert response.status_code == 302
    assert card_status(booked) == CardStatus.HANDED_OVER


def test_a_contractor_is_refused_a_proxy_hand_over_where_officials_keep_that_judgement(
    personas: p.World, frozen: Any
) -> None:
    keep(personas, ["proxy_eligibility"])
    booked = checked_in_pickup(personas, frozen)
    contractor = signed_in(personas, "contractor_a")  # the sign-in is an audit event itself
    events = AuditEvent.objects.count()
    response = contractor.post(f"/staff/reservations/{booked.code}/hand-over/", PROXY)
    assert response.status_code == 403
    assert "市区町村の職員が行います" in response.content.decode()
    assert card_status(booked) == CardStatus.BOOKED
    assert Reservation.objects.get(code=booked.code).status == ReservationStatus.CHECKED_IN
    assert AuditEvent.objects.count() == events


def test_an_official_hands_over_to_a_proxy_where_contractors_may_not(
    personas: p.World, frozen: Any
) -> None:
    booked = checked_in_pickup(personas, frozen)
    response = signed_in(personas, "official_a").post(
        f"/staff/reservations/{booked.code}/hand-over/", PROXY
    )
    assert response.status_code == 302
    assert card_status(booked) == CardStatus.HANDED_OVER


def test_the_hand_over_service_asks_the_rule_too(personas: p.World) -> None:
    card = cards.card(personas.home, status=CardStatus.BOOKED, reservation_code="R-1")
    for name, code in (
        ("foreign_manager", "forbidden"),
        ("auditor", "forbidden"),
        ("manager_nowhere", "forbidden"),
        ("contractor_a", "official_required"),
    ):
        user = personas.users[name]
        with pytest.raises(DomainError) as refused:
            issuance.hand_over_card(
                card=card,
                actor=Actor.staff(user),
                staff_user=user,
                is_proxy=False,
                id_document_class=IdDocumentClass.ONE_PHOTO,
            )
        assert (refused.value.code, refused.value.status) == (code, 403), name
    card.refresh_from_db()
    assert card.status == CardStatus.BOOKED


def test_the_destroy_service_refuses_another_municipalitys_staff(personas: p.World) -> None:
    long_ago = clock.now() - dt.timedelta(days=3 * 366)  # the destroy period has passed
    card = cards.card(
        personas.home,
        status=CardStatus.REMINDED,
        reminded_at=long_ago,
        notice_issued_at=long_ago,
        first_notice_issued_at=long_ago,
    )
    for name in ("foreign_manager", "contractor_a", "auditor", "superuser_nowhere"):
        user = personas.users[name]
        with pytest.raises(DomainError) as refused:
            issuance.destroy_card(card=card, actor=Actor.staff(user), staff_user=user)
        assert refused.value.status == 403, name
    user = personas.users["official_a"]
    issuance.destroy_card(card=card, actor=Actor.staff(user), staff_user=user)
    card.refresh_from_db()
    assert card.status == CardStatus.DESTROYED


def test_the_refusal_page_speaks_the_pages_language(personas: p.World) -> None:
    site_b = personas.site("b")
    ja = signed_in(personas, "official_a").get(f"/staff/sites/{site_b.pk}/")
    en = signed_in(personas, "official_a", "en").get(f"/staff/sites/{site_b.pk}/")
    assert ja.status_code == en.status_code == 403
    assert "この窓口（みどり北支所）の担当ではない" in ja.content.decode()
    assert "You are not assigned to this site (みどり北支所)" in en.content.decode()
    for response in (ja, en):
        assert "no-store" in response["Cache-Control"]


def test_an_account_without_a_municipality_is_told_why(personas: p.World) -> None:
    response = signed_in(personas, "superuser_nowhere").get("/staff/")
    assert response.status_code == 403
    assert "どの自治体にも所属していない" in response.content.decode()
    assert "みどり本庁舎" not in response.content.decode()


def test_a_missing_id_is_refused_like_another_municipalitys(personas: p.World) -> None:
    client = signed_in(personas, "manager")
    foreign = client.get(f"/staff/sites/{personas.site('c').pk}/")
    missing = client.get("/staff/sites/999999/")
    assert foreign.status_code == missing.status_code == 403
    assert foreign.context["reason"] == missing.context["reason"]
    code = client.post("/staff/reservations/NOSUCHCODE/check-in/")
    assert code.status_code == 403


def test_reading_a_day_view_is_an_access_record_naming_the_reader(
    personas: p.World,
) -> None:
    site = personas.site("a")
    user = personas.users["auditor"]
    response = signed_in(personas, "auditor").get(f"/staff/sites/{site.pk}/?day={VISIT_DAY}")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="access.read")
    assert event.actor == Actor.staff(user).label
    assert (event.subject_type, event.subject_id) == ("offices.Site", str(site.pk))
    assert event.after == {"what": "day_view", "day": VISIT_DAY.isoformat()}


def test_lists_are_scoped_to_the_users_sites(personas: p.World) -> None:
    sites = list(personas.sites.values())
    for site in sites:
        slots.slot(site, personas.renewal, day=VISIT_DAY)
    users = personas.users
    assert access.in_scope(users["official_a"], access.Action.COUNTER, sites) == [sites[0]]
    assert access.in_scope(users["foreign_official"], access.Action.COUNTER, sites) == [sites[2]]

    def slot_sites(name: str, action: access.Action) -> set[str]:
        rows = access.scope_to_sites(Slot.objects.all(), users[name], action)
        return {row.site.name for row in rows}

    assert slot_sites("official_a", access.Action.COUNTER) == {"みどり本庁舎"}
    assert slot_sites("auditor", access.Action.SEE_SITE) == {"みどり本庁舎", "みどり北支所"}
    assert slot_sites("auditor", access.Action.COUNTER) == set()
    assert slot_sites("foreign_official", access.Action.SEE_SITE) == {"あおば町役場"}
    assert slot_sites("superuser_nowhere", access.Action.SEE_SITE) == set()
    batches = {
        owner.pk: NoticeBatch.objects.create(
            municipality=owner, created_at=clock.now(), created_by="test"
        )
        for owner in (personas.home, personas.foreign)
    }

    def own(name: str) -> list[NoticeBatch]:
        everything = NoticeBatch.objects.all()
        return list(access.scope_to_municipality(everything, users[name], EXPORT))

    EXPORT = access.Action.EXPORT_NOTICES
    assert own("manager") == [batches[personas.home.pk]]
    assert own("foreign_official") == [batches[personas.foreign.pk]]
    assert own("auditor") == own("manager_nowhere") == []


def test_pages_offer_only_the_moves_the_rule_allows(personas: p.World, frozen: Any) -> None:
    booked = checked_in_pickup(personas, frozen)
    issue_ticket(site=personas.site("a"), procedure=personas.renewal, actor=Actor.resident())
    site = personas.site("a")

    def page(name: str, path: str) -> str:
        response = signed_in(personas, name).get(path)
        assert response.status_code == 200, name
        return response.content.decode()

    day = f"/staff/sites/{site.pk}/?day={VISIT_DAY}"
    calling = f"/staff/queue/sites/{site.pk}/"
    hand_over = f"/staff/reservations/{booked.code}/hand-over/"
    assert hand_over in page("official_a", day)
    assert hand_over not in page("contractor_a", day)  # the judgement stays with officials
    assert "/no-show/" in page("contractor_a", day)
    for path in (day, calling):
        assert "/staff/reservations/" not in page("auditor", path)
        assert "/call/" not in page("auditor", path) and "/cancel/" not in page("auditor", path)
    assert "/call/" in page("manager", calling) and "/cancel/" in page("manager", calling)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"role": "official"}, 403),  # downgraded: the planning page is a manager's
        ({"is_active": False}, 302),  # switched off: back to the sign-in page
        ({"municipality": "foreign"}, 200),  # moved: the new one's plan, none of the old
    ],
)
def test_a_signed_in_managers_changed_account_counts_from_their_next_request(
    personas: p.World, frozen: Any, change: dict[str, Any], expected: int
) -> None:
    """The open session keeps no rights: each request reads the account as it is now."""
    client = signed_in(personas, "manager")
    assert client.get("/staff/planning/").status_code == 200
    manager = personas.users["manager"]
    for field, value in change.items():
        setattr(manager, field, personas.by_key(value) if field == "municipality" else value)
    manager.save()
    response = client.get("/staff/planning/")
    assert response.status_code == expected
    if expected == 302:
        assert "/staff/login/" in response["Location"]
    if change.get("municipality"):
        home_site = personas.site("a")
        assert client.get(f"/staff/sites/{home_site.pk}/").status_code == 403


def _reads_assigned_sites(client: Client, path: str) -> tuple[int, bool]:
    with CaptureQueriesContext(connection) as statements:
        status = client.get(path).status_code
    return status, any("staff_staffuser_sites" in q["sql"] for q in statements.captured_queries)


def test_only_the_roles_limited_to_their_sites_have_them_read(personas: p.World) -> None:
    """A request reads the member's assigned sites only where the rule needs them — officials
    and contractors at a site — not for a manager, auditor or administrator, who act at every
    site of their municipality (one statement fewer on each of their pages). An official's
    assignment is still read at each request: one taken away counts from the next."""
    site_a, site_b = personas.site("a"), personas.site("b")
    for name in ("manager", "auditor", "administrator", "superuser"):
        client = signed_in(personas, name)
        assert _reads_assigned_sites(client, f"/staff/sites/{site_b.pk}/") == (200, False), name
        assert _reads_assigned_sites(client, "/staff/") == (200, False), name
    official = signed_in(personas, "official_a")
    assert _reads_assigned_sites(official, f"/staff/sites/{site_a.pk}/") == (200, True)
    assert _reads_assigned_sites(official, f"/staff/sites/{site_b.pk}/") == (403, True)
    personas.users["official_a"].sites.set([site_b])
    assert official.get(f"/staff/sites/{site_a.pk}/").status_code == 403
    assert official.get(f"/staff/sites/{site_b.pk}/").status_code == 200
