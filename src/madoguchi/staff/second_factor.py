"""The staff second factor on django-otp: one TOTP device (an authenticator app) per account, plus
single-use backup codes (django-otp's static device). Every change here is an audit event.

docs/staff-login.md describes the flow; the views are in `staff/login.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from base64 import b32encode
from dataclasses import dataclass

from django.db import transaction
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.staff.models import StaffUser

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "認証アプリ"
BACKUP_DEVICE_NAME = "予備コード"
SUBJECT = "staff.StaffUser"


def has_second_factor(user: StaffUser) -> bool:
    """Whether the account has a confirmed authenticator app (backup codes alone are not one)."""
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def pending_totp_device(user: StaffUser) -> TOTPDevice:
    """The account's unconfirmed authenticator device, made on first use (its secret is shown
    until a code from it confirms it)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def secret_for_display(device: TOTPDevice) -> str:
    """The device's secret as the base32 an authenticator app accepts, in groups of four."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise_code(text: str) -> str:
    """What a person typed as a code: full-width folded, spaces and hyphens dropped, lower case."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace() and ch != "-").lower()


def confirm_enrolment(user: StaffUser, device: TOTPDevice, code: str) -> bool:
    """Confirm the pending device with a code from the app; an audit event when it works."""
    if device.user_id != user.pk or device.confirmed:
        return False
    with transaction.atomic():
        if not device.verify_token(normalise_code(code)):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
        record_audit_event(
            actor=Actor.staff(user),
            action="staff.otp.enrolled",
            subject_type=SUBJECT,
            subject_id=user.pk,
            after={"device": "totp"},
        )
    return True


@dataclass(frozen=True)
class Verification:
    """The outcome of one second-factor attempt."""

    device: TOTPDevice | StaticDevice | None
    wait_seconds: int = 0
    """>0 when every device refused to check because of django-otp's throttling."""

    @property
    def backup_code(self) -> bool:
        return isinstance(self.device, StaticDevice)


def verify_second_factor(user: StaffUser, code: str, *, address: str) -> Verification:
    """Check a code against the account's confirmed devices (each throttled by django-otp after
    a failure: 1, 2, 4 … seconds). A used backup code is deleted. Audited either way."""
    token = normalise_code(code)
    devices: list[TOTPDevice | StaticDevice] = [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]
    waits = []
    for device in devices:
        allowed, detail = device.verify_is_allowed()
        if not allowed:
            locked_until = (detail or {}).get("locked_until")
            if locked_until is not None:
                waits.append(max(1, int((locked_until - clock.now()).total_seconds()) + 1))
            continue
        if token and verify_token(user, device.persistent_id, token) is not None:
            device.refresh_from_db()
            if isinstance(device, StaticDevice):
                record_audit_event(
                    actor=Actor.staff(user),
                    action="staff.otp.backup_code_used",
                    subject_type=SUBJECT,
                    subject_id=user.pk,
                    after={"address": address, "remaining": device.token_set.count()},
                )
            else:
                record_audit_event(
                    actor=Actor.staff(user),
                    action="staff.otp.verified",
                    subject_type=SUBJECT,
                    subject_id=user.pk,
                    after={"address": address, "device": "totp"},
                )
            return Verification(device)
    if waits and len(waits) == len(devices):
        return Verification(None, wait_seconds=min(waits))
    record_audit_event(
        actor=Actor.staff(user),
        action="staff.otp.failed",
        subject_type=SUBJECT,
        subject_id=user.pk,
        after={"address": address},
    )
    return Verification(None)


def remaining_backup_codes(user: StaffUser) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def new_backup_codes(user: StaffUser) -> list[str]:
    """Replace the account's backup codes with BACKUP_CODE_COUNT new ones, returned to be shown
    once (django-otp keeps them to compare; each works once)."""
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
        record_audit_event(
            actor=Actor.staff(user),
            action="staff.otp.backup_codes_generated",
            subject_type=SUBJECT,
            subject_id=user.pk,
            after={"count": len(codes)},
        )
    return codes


def reset_second_factor(user: StaffUser, *, actor: Actor) -> int:
    """An administrator's reset: the account's authenticator app and backup codes are removed,
    so its next sign-in enrols anew (sessions it verified lose their verification). Audited."""
    with transaction.atomic():
        totp, _ = TOTPDevice.objects.filter(user=user).delete()
        static = StaticDevice.objects.filter(user=user).count()
        StaticDevice.objects.filter(user=user).delete()
        record_audit_event(
            actor=actor,
            action="staff.otp.reset",
            subject_type=SUBJECT,
            subject_id=user.pk,
            before={"totp_devices": totp, "backup_code_sets": static},
            after={"totp_devices": 0, "backup_code_sets": 0},
        )
    return int(totp) + int(static)


# --- the demo --------------------------------------------------------------------------------

_DEMO_LABEL = b"madoguchi demo city: published TOTP secret"


def demo_totp_key(username: str) -> str:
    """The published TOTP secret (hex) of a demo account: derived from its user name, so the
    demo can print it and every demo run gives the same one. Only `build_demo_city` uses it."""
    return hmac.new(_DEMO_LABEL, username.encode(), hashlib.sha256).hexdigest()[:40]


def give_demo_second_factor(user: StaffUser) -> TOTPDevice:
    """A confirmed authenticator device with the published demo secret (demo accounts only)."""
    device, _ = TOTPDevice.objects.update_or_create(
        user=user,
        name=TOTP_DEVICE_NAME,
        defaults={"key": demo_totp_key(user.get_username()), "confirmed": True},
    )
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return device
