"""A notice batch, a reminder-letter batch and their mailing lists, as the staff download them,
carry nothing of another municipality on the same deployment: no resident, address, notice
number, site, contact or code of it. The PDFs are read back with poppler's `pdftotext`."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.issuance.services import policy_for
from madoguchi.offices.models import Municipality, ProcedureCode
from madoguchi.reservations.pacing import issue_paced_batch, issue_reminder_batch
from madoguchi.staff.models import Role
from tests.conftest import login_staff
from tests.frozen_clock import CARDS_NOW
from tests.issuance import factories
from tests.issuance.test_notice_print import poppler  # noqa: F401 — the fixture
from tests.offices import factories as offices
from tests.reservations import factories as reservations

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(CARDS_NOW),
    pytest.mark.usefixtures("frozen", "poppler"),
]
SYSTEM = Actor.system("test")


@dataclass(frozen=True)
class Town:
    """A municipality whose every printed word is its own: residents, addresses, site, contact."""

    code: str
    name: str
    site: str
    site_address: str
    contact_phone: str
    family_names: tuple[str, ...]
    street: str
    postal_code: str

    def build(self) -> Municipality:
        owner = Municipality.objects.create(
            code=self.code,
            name=self.name,
            contact_name=f"{self.name} 市民課",
            contact_address=f"{self.street}1番1号",
            contact_phone=self.contact_phone,
        )
        site = offices.site(owner, name=self.site, address=self.site_address)
        pickup = offices.procedure(ProcedureCode.CARD_PICKUP)
        site.procedures.add(pickup)
        for days in (2, 3, 4):
            reservations.slot(
                site, pickup, day=clock.today() + dt.timedelta(days=days), capacity=10
            )
        long_ago = clock.now() - dt.timedelta(days=policy_for(owner).reminder_after_days + 5)
        for n, family in enumerate(self.family_names):
            for status, notice_at in (
                (CardStatus.SETUP_DONE, None),
                (CardStatus.NOTICE_ISSUED, long_ago),  # its reminder letter is due
            ):
                card = factories.card(
                    owner,
                    status=status,
                    family_name=family,
                    given_name="太郎" if status == CardStatus.SETUP_DONE else "次郎",
                    address=f"{self.street}{n + 2}番{n + 3}号",
                    postal_code=self.postal_code,
                )
                if notice_at is not None:
                    CardRecord.objects.filter(pk=card.pk).update(
                        notice_issued_at=notice_at, first_notice_issued_at=notice_at
                    )
        return owner


EAST = Town(
    code="131041",
    name="あさひ市",
    site="あさひ市役所本庁舎",
    site_address="あさひ市東町1-1",
    contact_phone="0311112222",
    family_names=("東山", "北川"),
    street="あさひ市東町",
    postal_code="111-0001",
)
WEST = Town(
    code="999997",
    name="かえで町",
    site="かえで町役場",
    site_address="かえで町西原9-9",
    contact_phone="0999998888",
    family_names=("西村", "南野"),
    street="かえで町西原",
    postal_code="999-0009",
)


def _marks(town: Town, owner: Municipality) -> set[str]:
    """What only this municipality's papers may carry."""
    cards = CardRecord.objects.filter(municipality=owner)
    return {
        town.name,
        town.site,
        town.site_address,
        town.street,
        town.postal_code,
        town.contact_phone,
        *town.family_names,
        *(n for n in cards.values_list("notice_number", flat=True) if n),
        *cards.values_list("application_id", flat=True),
    }


def _pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "batch.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return "".join(out.stdout.split())  # words a line break or a space split are read whole


def _found(marks: set[str], text: str) -> set[str]:
    return {mark for mark in marks if "".join(mark.split()).replace("-", "") in text}


@pytest.mark.parametrize("kind", ["notices", "reminders"])
def test_a_municipalitys_batch_and_mailing_list_carry_nothing_of_another(
    client: Any, tmp_path: Path, kind: str
) -> None:
    east, west = EAST.build(), WEST.build()
    issue = issue_paced_batch if kind == "notices" else issue_reminder_batch
    batches = {owner.pk: issue(municipality=owner, actor=SYSTEM) for owner in (east, west)}
    assert all(batch.batch_id is not None and len(batch.cards) == 2 for batch in batches.values())
    marks = {east.pk: _marks(EAST, east), west.pk: _marks(WEST, west)}
    for owner, other in ((east, west), (west, east)):
        client.logout()
        login_staff(client, factories.staff(Role.OFFICIAL, owner))
        batch_id = batches[owner.pk].batch_id
        pdf = client.get(f"/staff/issuance/notices/{batch_id}/notices.pdf")
        mailing = client.get(f"/staff/issuance/notices/{batch_id}/mailing.csv")
        assert (pdf.status_code, mailing.status_code) == (200, 200)
        for paper, text in (
            ("PDF", _pdf_text(b"".join(pdf.streaming_content), tmp_path)),
            ("mailing CSV", "".join(mailing.content.decode("utf-8-sig").split())),
        ):
            text = text.replace("-", "")
            own = _found(marks[owner.pk], text)
            # the control: the reading finds this municipality's own residents and numbers
            assert (
                set(
                    owner.cards.filter(pk__in=[c.pk for c in batches[owner.pk].cards]).values_list(
                        "family_name", flat=True
                    )
                )
                <= own
            ), (paper, owner.name)
            assert _found(marks[other.pk], text) == set(), (paper, owner.name)
