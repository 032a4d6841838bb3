"""The roll-up's trusted report keys, kept in the database and managed on a screen.

`trust_key` adds a municipality's Ed25519 public key (as `madoguchi report-public-key` prints it
at the sending deployment: `CODE KEY`), `revoke_key` withdraws one; each writes one audit event
(`report.key_trusted`, `report.key_revoked`). A key is refused, with a message saying why, when the
code's check digit is wrong, the key is not an Ed25519 public key in base64, the code is one of
this deployment's own municipalities (they are trusted with their own keys), or the same key is
already trusted for that code. Revoked keys stay listed with who revoked them.

The operators' file (`MADOGUCHI_REPORT_TRUSTED_KEYS`) and `madoguchi report-public-key --trust`
keep working: `report_signing.trusted_keys` trusts the keys of both. A key in the file is shown
on the screen but can be withdrawn only by deleting its line (docs/municipality-report.md).

A deployment that keeps the stricter rule of decision 0026 sets
`MADOGUCHI_REPORT_KEYS_FILE_ONLY`: then `screen_manages_keys()` is False, `trust_key` and
`revoke_key` refuse (`FileOnly`, nothing stored, nothing audited — nothing changed), the screen
is read-only and the keys in the table are not used to verify (`report_signing.trusted_keys`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.validators import validate_municipality_code
from madoguchi.forecasts import report_signing
from madoguchi.forecasts.models import TrustedReportKey
from madoguchi.offices.models import Municipality
from madoguchi.staff.models import StaffUser


class KeyRefused(Exception):
    """The key is not added or revoked; `message` says why (in the active language)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FileOnly(KeyRefused):
    """The deployment keeps trust in the operators' file only: the screen changes nothing."""


def screen_manages_keys() -> bool:
    """Whether keys may be added and revoked on the screen (and those in the table trusted)."""
    return not settings.MADOGUCHI_REPORT_KEYS_FILE_ONLY


def file_only_reason() -> str:
    return _(
        "このシステムでは、信頼する公開鍵を運用者のファイル（%(path)s）だけで管理しています"
        "（MADOGUCHI_REPORT_KEYS_FILE_ONLY）。この画面からは鍵の登録も取消しもできず、"
        "データベースに登録された鍵は報告書の確認に使いません。鍵を加えるか取り消すには、"
        "システムの運用者に依頼してください。"
    ) % {"path": settings.MADOGUCHI_REPORT_TRUSTED_KEYS}


def _screen_may_change_keys() -> None:
    if not screen_manages_keys():
        raise FileOnly(file_only_reason())


def _checked(code: str, public_key: str) -> tuple[str, str]:
    code, public_key = code.strip(), public_key.strip()
    try:
        validate_municipality_code(code)
    except ValidationError as error:
        raise KeyRefused(error.messages[0]) from None
    if report_signing.load_public_key(public_key) is None:
        raise KeyRefused(_("公開鍵が Ed25519 の公開鍵（base64、32バイト）ではありません。"))
    own = Municipality.objects.filter(code=code).first()
    if own is not None:
        raise KeyRefused(
            _(
                "%(name)s（%(code)s）はこのシステムで運用している自治体です。"
                "自分の鍵で署名されるので、登録は要りません。"
            )
            % {"name": own.name, "code": code}
        )
    return code, public_key


def trust_key(
    code: str, public_key: str, *, note: str = "", by: StaffUser | None, actor: Actor
) -> TrustedReportKey:
    """Trust `public_key` for municipality `code` from now on (audited)."""
    _screen_may_change_keys()
    code, public_key = _checked(code, public_key)
    try:
        with transaction.atomic():
            key = TrustedReportKey.objects.create(
                municipality_code=code,
                public_key=public_key,
                note=note.strip()[:200],
                added_at=clock.now(),
                added_by=by,
            )
            record_audit_event(
                actor=actor,
                action="report.key_trusted",
                subject_type="TrustedReportKey",
                subject_id=key.pk,
                after={"municipality_code": code, "public_key": public_key, "note": key.note},
            )
    except IntegrityError:
        raise KeyRefused(
            _("%(code)s のこの公開鍵はすでに登録されています。") % {"code": code}
        ) from None
    return key


def revoke_key(key_id: int, *, by: StaffUser | None, actor: Actor) -> TrustedReportKey:
    """Stop trusting a key added on the screen (audited); a report it signed is refused from
    now on. Reports imported before stay, with their signature."""
    _screen_may_change_keys()
    with transaction.atomic():
        key = TrustedReportKey.objects.select_for_update().filter(pk=key_id).first()
        if key is None:
            raise KeyRefused(_("その公開鍵は登録されていません。"))
        if key.revoked_at is not None:
            raise KeyRefused(_("その公開鍵はすでに取り消されています。"))
        key.revoked_at = clock.now()
        key.revoked_by = by
        key.save(update_fields=["revoked_at", "revoked_by"])
        record_audit_event(
            actor=actor,
            action="report.key_revoked",
            subject_type="TrustedReportKey",
            subject_id=key.pk,
            before={"municipality_code": key.municipality_code, "public_key": key.public_key},
            after={"revoked_at": key.revoked_at.isoformat()},
        )
    return key


@dataclass(frozen=True)
class FileKey:
    """A key trusted by a line of the operators' file (shown, not revocable on the screen)."""

    municipality_code: str
    public_key: str


def file_keys() -> tuple[list[FileKey], str]:
    """The keys of the operators' file, and the error that stops it being read (or "")."""
    try:
        keys = report_signing.file_trusted_keys()
    except report_signing.KeyFileError as error:
        return [], str(error)
    return [
        FileKey(code, key) for code in sorted(keys.keys) for key in sorted(keys.for_code(code))
    ], ""
