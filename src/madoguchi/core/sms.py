"""Text messages (SMS) to residents' mobile phones, behind one adapter.

`send_sms(to, body)` sends through the backend `MADOGUCHI_SMS_BACKEND` names:

- `console` (the default): the message is written to standard output — development and demos;
- `file`: one JSON line per message appended to `MADOGUCHI_SMS_FILE` — tests and a demo that
  wants to read what would have been sent;
- `twilio`: Twilio Programmable Messaging, its Messages API (`POST
  /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded `To`, `From`, `Body`, HTTP Basic
  authentication with the account SID and auth token; 201 with the message's `sid`). Sent with the
  standard library's HTTP client (`urllib.request`): one POST needs no more, and the provider's
  SDK would bring an HTTP stack of its own (decision 0020).

Numbers are stored as the residents typed them, normalised to digits (`09012345678`); only
Japanese mobile numbers (070, 080, 090) can receive SMS, and every backend gets them in E.164
(`+819012345678`). A failed send raises `SmsError` (an `OSError`, as SMTP failures are), so
callers handle both channels alike.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from madoguchi.core import clock

_MOBILE = re.compile(r"^0[789]0\d{8}$")
TIMEOUT_SECONDS = 10


class SmsError(OSError):
    """The message could not be handed to the provider (nothing is known to have been sent)."""


def is_mobile(number: str) -> bool:
    """True for a Japanese mobile number in digits (070, 080 or 090 and 8 more digits)."""
    return bool(_MOBILE.match(number))


def to_e164(number: str) -> str:
    """`09012345678` → `+819012345678`; raises ValueError for a number that is not a mobile."""
    if not is_mobile(number):
        raise ValueError(f"not a Japanese mobile number: {number!r}")
    return "+81" + number[1:]


@dataclass(frozen=True)
class Sent:
    """What a backend reports: the E.164 number and the provider's id for the message."""

    to: str
    provider_id: str


def send_sms(to: str, body: str) -> Sent:
    """Send `body` to the mobile number `to` (digits, as stored) through the configured backend.

    Raises ValueError for a number that cannot receive SMS and `SmsError` when the backend fails.
    """
    number = to_e164(to)
    backend = settings.MADOGUCHI_SMS_BACKEND
    if backend == "twilio":
        return _twilio(number, body)
    if backend == "file":
        return _file(number, body)
    return _console(number, body)


def _console(number: str, body: str) -> Sent:
    sys.stdout.write(f"--- SMS to {number} ---\n{body}\n---\n")
    sys.stdout.flush()
    return Sent(number, "console")


def _file(number: str, body: str) -> Sent:
    path = Path(settings.MADOGUCHI_SMS_FILE)
    line = json.dumps(
        {"at": clock.now().isoformat(), "to": number, "body": body}, ensure_ascii=False
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
    except OSError as error:
        raise SmsError(f"SMS file {path}: {error}") from error
    return Sent(number, f"file:{path.name}")


def _twilio(number: str, body: str) -> Sent:
    """One POST to Twilio's Messages API; the answer's `sid` is the message's id."""
    sid = settings.MADOGUCHI_TWILIO_ACCOUNT_SID
    token = settings.MADOGUCHI_TWILIO_AUTH_TOKEN
    sender = settings.MADOGUCHI_TWILIO_FROM
    if not (sid and token and sender):
        raise SmsError(
            "Twilio is not configured: set MADOGUCHI_TWILIO_ACCOUNT_SID, "
            "MADOGUCHI_TWILIO_AUTH_TOKEN and MADOGUCHI_TWILIO_FROM"
        )
    base = str(settings.MADOGUCHI_TWILIO_API_BASE).rstrip("/")
    url = f"{base}/2010-04-01/Accounts/{urllib.parse.quote(sid, safe='')}/Messages.json"
    if not url.startswith(("https://", "http://")):
        raise SmsError(f"MADOGUCHI_TWILIO_API_BASE is not an http(s) address: {base}")
    data = urllib.parse.urlencode({"To": number, "From": sender, "Body": body}).encode()
    credentials = base64.b64encode(f"{sid}:{token}".encode()).decode("ascii")
    request = urllib.request.Request(  # noqa: S310 — the scheme is checked above
        url,
        data=data,
        method="POST",
        headers={
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = _twilio_error(error)
        raise SmsError(f"Twilio refused the message ({error.code}): {detail}") from error
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise SmsError(f"Twilio could not be reached: {error}") from error
    return Sent(number, str(answer.get("sid", "")))


def _twilio_error(error: urllib.error.HTTPError) -> str:
    """Twilio's error body: {"code": 21211, "message": "...", "more_info": "...", ...}."""
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        return error.reason or ""
    return f"{body.get('code', '')} {body.get('message', '')}".strip()
