"""Registered kiosks: only a tablet a manager registered may issue tickets from the kiosk page.

Why: the kiosk page issues a ticket per tap, without the phone page's one-ticket-a-minute
cookie — right for a tablet at the entrance, wrong for any phone that finds its address. So the
kiosk needs a device key:

1. a manager registers a kiosk for a site on the staff page (`register_kiosk`): a one-time
   activation link, valid for `ACTIVATION_MINUTES`, is shown (with a QR code);
2. opened on the tablet, the link's form activates it (`activate_kiosk`): the tablet receives a
   signed cookie holding the device id and a fresh secret key; only the key's SHA-256 is stored;
3. every kiosk request checks the cookie (`kiosk_for`): signature, device registered and not
   revoked, the key's hash, the site;
4. a manager can revoke a kiosk (`revoke_kiosk`); its key is worthless from then on.

The staff page and the activation link may be served by different hosts (the staff zone and the
public zone): the cookie is set by the public site itself, when the tablet opens the link.
Each change is audited (`kiosk.registered`, `kiosk.activated`, `kiosk.revoked`); keys and
activation tokens never reach the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.errors import DomainError
from madoguchi.offices.models import Site
from madoguchi.walkins.models import KioskDevice

ACTIVATION_MINUTES = 30
"""An activation link works once, within this many minutes of the registration."""
COOKIE_NAME = "madoguchi_kiosk"
COOKIE_SALT = "queue-kiosk"
COOKIE_MAX_AGE = 400 * 24 * 3600
"""The longest lifetime browsers keep a cookie for (400 days); revoke to end it sooner."""
SUBJECT_TYPE = "walkins.KioskDevice"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _audit_state(device: KioskDevice) -> dict[str, object]:
    return {
        "site": device.site_id,
        "name": device.name,
        "activated": device.activated_at is not None,
        "revoked": device.revoked_at is not None,
    }


@transaction.atomic
def register_kiosk(*, site: Site, name: str, actor: Actor) -> tuple[KioskDevice, str]:
    """Register a kiosk named `name` at `site`; returns it and its one-time activation token
    (shown once; only its hash is kept). Raises DomainError `kiosk_name_taken` (409) when a
    registered kiosk of the site has that name already."""
    token = secrets.token_urlsafe(24)
    now = clock.now()
    try:
        with transaction.atomic():
            device = KioskDevice.objects.create(
                site=site,
                name=name.strip(),
                activation_hash=_digest(token),
                activation_expires_at=now + dt.timedelta(minutes=ACTIVATION_MINUTES),
                registered_at=now,
                registered_by=actor.label,
            )
    except IntegrityError:
        raise DomainError(
            "kiosk_name_taken",
            _("「%(name)s」という名前の発行機はすでに登録されています。別の名前にしてください。")
            % {"name": name},
            status=409,
        ) from None
    record_audit_event(
        actor=actor,
        action="kiosk.registered",
        subject_type=SUBJECT_TYPE,
        subject_id=device.pk,
        before=None,
        after=_audit_state(device),
    )
    return device, token


def _activation_refused() -> DomainError:
    return DomainError(
        "kiosk_activation_invalid",
        _(
            "この登録用リンクは使えません（使用済み・期限切れ・取消済みのいずれかです）。"
            "管理職の方に、職員画面で発行機を登録し直してもらってください。"
        ),
        status=410,
    )


def pending_activation(token: str) -> KioskDevice | None:
    """The kiosk waiting for activation with `token`, or None (unknown, used, expired,
    revoked)."""
    device = (
        KioskDevice.objects.select_related("site")
        .filter(activation_hash=_digest(token), revoked_at__isnull=True)
        .exclude(activation_hash="")
        .first()
    )
    if device is None or device.activation_expires_at is None:
        return None
    if device.activation_expires_at <= clock.now():
        return None
    return device


@transaction.atomic
def activate_kiosk(*, token: str, actor: Actor) -> tuple[KioskDevice, str]:
    """Activate the kiosk behind the one-time `token` on the tablet that opened it: returns the
    device and the value of the signed cookie the tablet keeps. The token is spent. Raises
    DomainError `kiosk_activation_invalid` (410) for an unknown, used, expired or revoked one."""
    found = pending_activation(token)
    if found is None:
        raise _activation_refused()
    device = KioskDevice.objects.select_for_update().get(pk=found.pk)
    if device.activation_hash != _digest(token) or device.revoked_at is not None:
        raise _activation_refused()  # spent or revoked meanwhile
    key = secrets.token_urlsafe(32)
    device.key_hash = _digest(key)
    device.activation_hash = ""
    device.activation_expires_at = None
    device.activated_at = clock.now()
    device.save(
        update_fields=["key_hash", "activation_hash", "activation_expires_at", "activated_at"]
    )
    record_audit_event(
        actor=actor,
        action="kiosk.activated",
        subject_type=SUBJECT_TYPE,
        subject_id=device.pk,
        before=None,
        after=_audit_state(device),
    )
    return device, signing.dumps({"id": device.pk, "key": key}, salt=COOKIE_SALT)


@transaction.atomic
def revoke_kiosk(*, device: KioskDevice, actor: Actor) -> KioskDevice:
    """End a kiosk's registration: its tablet's key no longer issues tickets. Raises
    DomainError `kiosk_revoked` (409) when it was revoked already."""
    locked = KioskDevice.objects.select_for_update().get(pk=device.pk)
    if locked.revoked_at is not None:
        raise DomainError(
            "kiosk_revoked", _("この発行機の登録はすでに取り消されています。"), status=409
        )
    before = _audit_state(locked)
    locked.revoked_at = clock.now()
    locked.save(update_fields=["revoked_at"])
    record_audit_event(
        actor=actor,
        action="kiosk.revoked",
        subject_type=SUBJECT_TYPE,
        subject_id=locked.pk,
        before=before,
        after=_audit_state(locked),
    )
    return locked


def kiosk_for(site: Site, cookie: str | None) -> KioskDevice | None:
    """The registered kiosk of `site` whose signed cookie value is `cookie`, or None (no
    cookie, a bad signature, an unknown or revoked kiosk, a wrong key, another site's kiosk)."""
    if not cookie:
        return None
    try:
        payload = signing.loads(cookie, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    device_id, key = payload.get("id"), payload.get("key")
    if not isinstance(device_id, int) or not isinstance(key, str):
        return None
    device = KioskDevice.objects.filter(pk=device_id, site=site, revoked_at__isnull=True).first()
    if device is None or not device.key_hash:
        return None
    if not hmac.compare_digest(device.key_hash, _digest(key)):
        return None
    return device
