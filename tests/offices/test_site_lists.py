"""The staff pages' site list (`offices.selectors.municipality_sites`): one municipality's
sites in service in the order of `active_sites` — main office first, by kind, then by name;
one site in service by id (`active_site`)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.offices.models import SiteKind
from madoguchi.offices.selectors import active_site, active_sites, municipality_sites
from tests.offices import factories as offices

pytestmark = pytest.mark.django_db


def test_a_municipalitys_sites_in_the_order_of_active_sites_without_others() -> None:
    home = offices.municipality()
    other = offices.municipality(code="999999", name="よその市")
    # created out of order: names against kinds, so neither creation nor name gives the order
    for kind, name in [
        (SiteKind.OUTREACH, "あ出張"),
        (SiteKind.BRANCH_OFFICE, "ん支所"),
        (SiteKind.POST_OFFICE, "い郵便局"),
        (SiteKind.BRANCH_OFFICE, "か支所"),
        (SiteKind.TEMPORARY, "う臨時"),
        (SiteKind.MAIN_OFFICE, "わ本庁舎"),
    ]:
        offices.site(home, kind=kind, name=name, counters=0, terminals=0)
    offices.site(home, kind=SiteKind.BRANCH_OFFICE, name="え閉所", is_active=False)
    offices.site(other, kind=SiteKind.MAIN_OFFICE, name="あ他市", counters=0, terminals=0)

    listed = [site.name for site in municipality_sites(home.pk)]

    assert listed == ["わ本庁舎", "か支所", "ん支所", "う臨時", "い郵便局", "あ出張"]
    assert listed == [site.name for site in active_sites(home)]


def test_one_site_in_service_is_read_as_active_sites_gives_it_without_an_order() -> None:
    """`active_site`: a site in service with its municipality and procedures (no read of their
    own afterwards), of the municipality asked for; None for one out of service, another
    municipality's or an unknown id — and one row is read without `active_sites`' ORDER BY."""
    home = offices.municipality()
    other = offices.municipality(code="999999", name="よその市")
    branch = offices.site(home, kind=SiteKind.BRANCH_OFFICE, name="か支所")
    branch.procedures.set([offices.procedure("card_pickup"), offices.procedure("cert_renewal")])
    closed = offices.site(home, kind=SiteKind.BRANCH_OFFICE, name="え閉所", is_active=False)
    elsewhere = offices.site(other, kind=SiteKind.MAIN_OFFICE, name="あ他市")

    with CaptureQueriesContext(connection) as reads:
        found = active_site(branch.pk, home)
    assert found is not None
    with CaptureQueriesContext(connection) as after:
        names = (found.municipality.name, [p.code for p in found.procedures.all()])
    assert after.captured_queries == []
    (expected,) = [site for site in active_sites(home) if site.pk == branch.pk]
    assert (found, names) == (
        expected,
        (home.name, [p.code for p in expected.procedures.all()]),
    )
    assert names[1] == ["card_pickup", "cert_renewal"]
    assert "ORDER BY" not in reads.captured_queries[0]["sql"].upper()

    assert active_site(branch.pk) == branch  # any municipality's
    assert active_site(closed.pk, home) is None
    assert active_site(elsewhere.pk, home) is None
    assert active_site(elsewhere.pk) == elsewhere
    assert active_site(elsewhere.pk + 1000) is None
