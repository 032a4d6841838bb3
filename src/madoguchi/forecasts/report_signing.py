"""Ed25519 keys and signatures of municipality reports (decision 0026, docs/municipality-report.md).

Each municipality signs its report with its own private key, kept outside the database like the
audit key: one PEM file per municipality code in `MADOGUCHI_REPORT_KEY_DIR` (0600; generated on
first use when missing, as the laptop's audit key is). The roll-up trusts the public keys listed
in `MADOGUCHI_REPORT_TRUSTED_KEYS`, a text file its operators keep — one `CODE PUBLIC_KEY` per
line (base64 of the 32 raw bytes; `madoguchi report-public-key` prints a municipality's line).
A municipality may have several lines (a key being replaced). Keys may also be added and
revoked on the trusted keys screen (`report_keys`, kept in the database); both are trusted,
unless `MADOGUCHI_REPORT_KEYS_FILE_ONLY` keeps the file the only source of trust. The
municipalities of this deployment are trusted with their own keys without a line.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils.translation import gettext as _

ALGORITHM = "Ed25519"


class KeyFileError(Exception):
    """A key file that cannot be used (the message names the file)."""


def _key_path(code: str) -> Path:
    return Path(settings.MADOGUCHI_REPORT_KEY_DIR) / f"{code}.ed25519.pem"


def private_key(code: str) -> Ed25519PrivateKey:
    """The municipality's signing key; created (0600, atomically) when there is none yet."""
    path = _key_path(code)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fresh = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
        try:
            os.link(fresh, path)  # of two processes creating it at once, one key wins
        except FileExistsError:
            pass
        finally:
            fresh.unlink()
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise KeyFileError(
            _("%(path)s: 署名鍵を読めません（%(why)s）。") % {"path": path, "why": error}
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(_("%(path)s: Ed25519 の秘密鍵ではありません。") % {"path": path})
    return key


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def own_public_key(code: str) -> str:
    return public_key_text(private_key(code).public_key())


def sign(code: str, message: bytes) -> tuple[str, str]:
    """(public key, signature), both base64, of `message` with the municipality's key."""
    key = private_key(code)
    return public_key_text(key.public_key()), base64.b64encode(key.sign(message)).decode("ascii")


def load_public_key(text: str) -> Ed25519PublicKey | None:
    """A base64 public key, or None when it is not one."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, UnicodeEncodeError, binascii.Error):
        return None


def signature_holds(public_key: str, signature: str, message: bytes) -> bool:
    key = load_public_key(public_key)
    if key is None:
        return False
    try:
        key.verify(base64.b64decode(signature.encode("ascii"), validate=True), message)
    except (InvalidSignature, ValueError, UnicodeEncodeError, binascii.Error):
        return False
    return True


@dataclass(frozen=True)
class TrustedKeys:
    """Municipality code → the public keys the roll-up accepts for it."""

    keys: dict[str, frozenset[str]]

    def for_code(self, code: str) -> frozenset[str]:
        return self.keys.get(code, frozenset())


def trusted_keys(path: Path | None = None) -> TrustedKeys:
    """The keys the roll-up trusts: those of the operators' file and, unless the deployment
    keeps trust in the file only (`MADOGUCHI_REPORT_KEYS_FILE_ONLY`), those added on the
    trusted keys screen and not revoked (`TrustedReportKey`, `report_keys`)."""
    from madoguchi.forecasts.models import TrustedReportKey

    if settings.MADOGUCHI_REPORT_KEYS_FILE_ONLY:
        return file_trusted_keys(path)
    keys = {code: set(found) for code, found in file_trusted_keys(path).keys.items()}
    for code, key in TrustedReportKey.objects.filter(revoked_at__isnull=True).values_list(
        "municipality_code", "public_key"
    ):
        keys.setdefault(code, set()).add(key)
    return TrustedKeys({code: frozenset(found) for code, found in keys.items()})


def file_trusted_keys(path: Path | None = None) -> TrustedKeys:
    """The registry file (`MADOGUCHI_REPORT_TRUSTED_KEYS`); a missing file trusts nobody.

    Blank lines and `#` comments are ignored; a line that is not `CODE KEY` stops with the
    line number, so a typo cannot silently distrust a municipality."""
    path = Path(path or settings.MADOGUCHI_REPORT_TRUSTED_KEYS)
    keys: dict[str, set[str]] = {}
    if not path.exists():
        return TrustedKeys({})
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        if len(parts) != 2 or load_public_key(parts[1]) is None:
            raise KeyFileError(
                _(
                    "%(path)s %(line)s行目: "
                    "「地方公共団体コード 公開鍵（base64）」の形ではありません。"
                )
                % {"path": path, "line": number}
            )
        keys.setdefault(parts[0], set()).add(parts[1])
    return TrustedKeys({code: frozenset(found) for code, found in keys.items()})


def register_public_key(code: str, public_key: str, path: Path | None = None) -> bool:
    """Append `CODE KEY` to the registry unless it is there; True when added."""
    path = Path(path or settings.MADOGUCHI_REPORT_TRUSTED_KEYS)
    if load_public_key(public_key) is None:
        raise KeyFileError(_("公開鍵が Ed25519 の公開鍵（base64、32バイト）ではありません。"))
    if public_key in file_trusted_keys(path).for_code(code):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(f"{code} {public_key}\n")
    return True
