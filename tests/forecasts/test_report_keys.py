"""The roll-up's trusted report keys on a screen: added, listed, revoked, audited, refused when
malformed; the operators' file and `report-public-key --trust` keep working beside them.

`MADOGUCHI_REPORT_KEYS_FILE_ONLY` (decision 0030): the operators' file is the only source of
trust — the screen is read-only, its add and revoke are refused (403, nothing stored or
audited) and keys stored in the database do not verify a report; the matrix is generated over
both modes, every role and each of the screen's three requests."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.test import Client

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.forecasts import report_keys, report_signing
from madoguchi.forecasts.models import ImportedReport, TrustedReportKey
from madoguchi.forecasts.report import ReportV1, build_report, canonical_bytes, to_json
from madoguchi.forecasts.report_import import ReportRefused, import_report
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import login_staff
from tests.offices import factories as offices

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)
ACTOR = Actor.system("test")
SENDER = "011002"


@pytest.fixture
def keys(settings: Any, tmp_path: Path) -> Path:
    settings.MADOGUCHI_REPORT_KEY_DIR = tmp_path / "keys"
    settings.MADOGUCHI_REPORT_TRUSTED_KEYS = tmp_path / "trusted.txt"
    return tmp_path


def _new_key() -> str:
    return report_signing.public_key_text(Ed25519PrivateKey.generate().public_key())


@pytest.fixture
def sent(keys: Path) -> tuple[bytes, str]:
    """A report of a municipality run elsewhere (SENDER), signed by its key, and that key."""
    base = build_report(offices.municipality(code="131041", name="基準区"), today=TODAY)
    data = base.dump()
    data["municipality"] = {**data["municipality"], "code": SENDER, "name": "さっぽろ試験市"}
    ReportV1.load(data)
    public_key, value = report_signing.sign(SENDER, canonical_bytes(data))
    signature = {"algorithm": "Ed25519", "public_key": public_key, "value": value}
    return to_json({"report": data, "signature": signature}), public_key


def test_a_key_trusted_on_the_screen_admits_the_report_and_revoked_refuses_it(
    sent: tuple[bytes, str],
) -> None:
    content, public_key = sent
    with pytest.raises(ReportRefused, match="鍵として登録されていません"):
        import_report(content, file_name="r.json", actor=ACTOR)
    key = report_keys.trust_key(SENDER, public_key, note="電話で確認", by=None, actor=ACTOR)
    event = AuditEvent.objects.get(action="report.key_trusted")
    assert event.subject_id == str(key.pk) and event.after["public_key"] == public_key
    assert import_report(content, file_name="r.json", actor=ACTOR).created
    ImportedReport.objects.all().delete()

    report_keys.revoke_key(key.pk, by=None, actor=ACTOR)
    assert AuditEvent.objects.filter(action="report.key_revoked", subject_id=str(key.pk)).exists()
    with pytest.raises(ReportRefused, match="鍵として登録されていません"):
        import_report(content, file_name="r.json", actor=ACTOR)
    assert not ImportedReport.objects.exists()
    with pytest.raises(report_keys.KeyRefused, match="すでに取り消されています"):
        report_keys.revoke_key(key.pk, by=None, actor=ACTOR)
    # trusted again after a revocation: a new row, the revoked one kept
    report_keys.trust_key(SENDER, public_key, by=None, actor=ACTOR)
    assert TrustedReportKey.objects.filter(public_key=public_key).count() == 2
    assert report_signing.trusted_keys().for_code(SENDER) == {public_key}


MALFORMED = {
    "a wrong check digit": ("011003", None, "検査数字"),
    "not six digits": ("01100", None, "6桁の数字"),
    "not base64": (SENDER, "not a key!", "Ed25519 の公開鍵"),
    "31 bytes": (SENDER, "A" * 40 + "AA==", "Ed25519 の公開鍵"),
    "this deployment's own municipality": ("131041", None, "運用している自治体"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_key_is_refused_and_nothing_is_stored(keys: Path, case: str) -> None:
    offices.municipality(code="131041", name="基準区")
    code, key, message = MALFORMED[case]
    with pytest.raises(report_keys.KeyRefused, match=message):
        report_keys.trust_key(code, key or _new_key(), by=None, actor=ACTOR)
    assert not TrustedReportKey.objects.exists()
    assert not AuditEvent.objects.filter(action="report.key_trusted").exists()


def test_the_same_key_twice_is_refused(keys: Path) -> None:
    key = _new_key()
    report_keys.trust_key(SENDER, key, by=None, actor=ACTOR)
    with pytest.raises(report_keys.KeyRefused, match="すでに登録されています"):
        report_keys.trust_key(SENDER, f" {key} ", by=None, actor=ACTOR)
    assert TrustedReportKey.objects.count() == 1
    assert AuditEvent.objects.filter(action="report.key_trusted").count() == 1


def test_the_file_and_the_command_keep_working_beside_the_screen(keys: Path) -> None:
    in_file, on_screen = _new_key(), _new_key()
    call_command("report_public_key", "--trust", SENDER, in_file)
    report_keys.trust_key(SENDER, on_screen, by=None, actor=ACTOR)
    assert report_signing.trusted_keys().for_code(SENDER) == {in_file, on_screen}
    listed, error = report_keys.file_keys()
    assert error == "" and [(k.municipality_code, k.public_key) for k in listed] == [
        (SENDER, in_file)
    ]


@pytest.fixture
def rollup_client(client: Any, keys: Path) -> Any:
    user = StaffUser.objects.create_user(
        username="pref",
        password="x" * 12,
        role=Role.ROLLUP,
        municipality=offices.municipality(code="131041", name="基準区"),
    )
    login_staff(client, user)
    return client


def test_the_screen_adds_lists_and_revokes_a_key(rollup_client: Any) -> None:
    key, in_file = _new_key(), _new_key()
    report_signing.register_public_key("999997", in_file)
    added = rollup_client.post(
        "/staff/planning/rollup/keys/",
        {"municipality_code": SENDER, "public_key": key, "note": "電話で読み合わせ"},
    )
    assert added.status_code == 302
    stored = TrustedReportKey.objects.get()
    assert stored.added_by is not None and stored.added_by.username == "pref"
    page = rollup_client.get(added["Location"]).content.decode()
    assert key in page and in_file in page and "公開鍵を登録しました" in page
    assert f"/staff/planning/rollup/keys/{stored.pk}/revoke/" in page
    revoked = rollup_client.post(f"/staff/planning/rollup/keys/{stored.pk}/revoke/")
    assert revoked.status_code == 302
    stored.refresh_from_db()
    assert stored.revoked_at is not None and stored.revoked_by == stored.added_by
    again = rollup_client.post(f"/staff/planning/rollup/keys/{stored.pk}/revoke/")
    assert again.status_code == 400 and "すでに取り消されています" in again.content.decode()


def test_the_screen_refuses_a_malformed_key_with_its_reason(rollup_client: Any) -> None:
    refused = rollup_client.post(
        "/staff/planning/rollup/keys/", {"municipality_code": SENDER, "public_key": "abc"}
    )
    assert refused.status_code == 400
    assert "Ed25519 の公開鍵" in refused.content.decode()
    empty = rollup_client.post("/staff/planning/rollup/keys/", {})
    assert empty.status_code == 400
    assert "地方公共団体コードを入力してください" in empty.content.decode()
    assert not TrustedReportKey.objects.exists()
    assert not AuditEvent.objects.filter(action="report.key_trusted").exists()


KEYS = "/staff/planning/rollup/keys/"
MODES = {"screen": False, "file only": True}


@dataclass(frozen=True)
class Outcome:
    status: int
    changed: bool  # a key added or revoked (and one audit event written)


def expected(role: str, mode: str, request: str) -> Outcome:
    """The rule: only the roll-up role reaches the screen; with the file only, it reads it and
    changes nothing."""
    if role != Role.ROLLUP:
        return Outcome(403, False)
    if request == "list":
        return Outcome(200, False)
    if mode == "file only":
        return Outcome(403, False)
    return Outcome(302, True)


REQUESTS = ("list", "add", "revoke")
CASES = [
    pytest.param(role, mode, request, id=f"{role}-{mode}-{request}")
    for role, mode, request in itertools.product(Role.values, MODES, REQUESTS)
]


def _state() -> tuple[int, int, int]:
    return (
        TrustedReportKey.objects.count(),
        TrustedReportKey.objects.filter(revoked_at__isnull=False).count(),
        AuditEvent.objects.filter(action__startswith="report.key_").count(),
    )


@pytest.mark.parametrize(("role", "mode", "request_kind"), CASES)
def test_the_keys_screen_in_each_mode_for_each_role(
    client: Client, settings: Any, keys: Path, role: str, mode: str, request_kind: str
) -> None:
    settings.MADOGUCHI_REPORT_KEYS_FILE_ONLY = False
    stored = report_keys.trust_key(SENDER, _new_key(), by=None, actor=ACTOR)
    settings.MADOGUCHI_REPORT_KEYS_FILE_ONLY = MODES[mode]
    user = StaffUser.objects.create_user(
        username=f"u-{role}",
        password="x" * 12,
        role=role,
        municipality=offices.municipality(code="131041", name="基準区"),
    )
    login_staff(client, user)
    before = _state()
    send: dict[str, Callable[[], Any]] = {
        "list": lambda: client.get(KEYS),
        "add": lambda: client.post(
            KEYS, {"municipality_code": "011002", "public_key": _new_key(), "note": "電話"}
        ),
        "revoke": lambda: client.post(f"{KEYS}{stored.pk}/revoke/"),
    }
    response = send[request_kind]()
    want = expected(role, mode, request_kind)
    assert response.status_code == want.status
    assert (_state() != before) is want.changed
    page = response.content.decode()
    if response.status_code == 403 and role == Role.ROLLUP:
        assert "MADOGUCHI_REPORT_KEYS_FILE_ONLY" in page  # says why
        assert "運用者のファイル" in page
    if response.status_code == 200:
        file_only = MODES[mode]
        offered = f'action="{KEYS}"' in page or "/revoke/" in page
        assert offered is not file_only  # neither add nor revoke is offered with the file only
        assert ("MADOGUCHI_REPORT_KEYS_FILE_ONLY" in page) is file_only
        assert stored.public_key in page  # listed either way
        assert ("使っていません" in page) is file_only


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["file", "screen"])
def test_which_keys_verify_a_report_in_each_mode(
    settings: Any, sent: tuple[bytes, str], mode: str, where: str
) -> None:
    content, public_key = sent
    if where == "file":
        report_signing.register_public_key(SENDER, public_key)
    else:
        report_keys.trust_key(SENDER, public_key, by=None, actor=ACTOR)
    settings.MADOGUCHI_REPORT_KEYS_FILE_ONLY = MODES[mode]
    admitted = where == "file" or not MODES[mode]
    assert (public_key in report_signing.trusted_keys().for_code(SENDER)) is admitted
    if admitted:
        assert import_report(content, file_name="r.json", actor=ACTOR).created
    else:
        with pytest.raises(ReportRefused, match="鍵として登録されていません"):
            import_report(content, file_name="r.json", actor=ACTOR)
        assert not ImportedReport.objects.exists()


def test_the_services_refuse_too_with_the_file_only(settings: Any, keys: Path) -> None:
    key = report_keys.trust_key(SENDER, _new_key(), by=None, actor=ACTOR)
    settings.MADOGUCHI_REPORT_KEYS_FILE_ONLY = True
    before = _state()
    with pytest.raises(report_keys.FileOnly, match="MADOGUCHI_REPORT_KEYS_FILE_ONLY"):
        report_keys.trust_key(SENDER, _new_key(), by=None, actor=ACTOR)
    with pytest.raises(report_keys.FileOnly, match="運用者のファイル"):
        report_keys.revoke_key(key.pk, by=None, actor=ACTOR)
    assert _state() == before
