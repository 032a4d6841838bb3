"""The staff pages' site list (`offices.selectors.municipality_sites`): one municipality's
sites in service in the order of `active_sites` — main office first, by kind, then by name."""

from __future__ import annotations

import pytest

from madoguchi.offices.models import SiteKind
from madoguchi.offices.selectors import active_sites, municipality_sites
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
