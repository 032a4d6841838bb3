"""The SMS adapter: numbers in E.164, the console and file backends, and the Twilio client
tested against a local stub of Twilio's Messages API that checks what it receives (path, Basic
auth, form body)."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from madoguchi.core import sms

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token"


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("09012345678", "+819012345678"),
        ("08011112222", "+818011112222"),
        ("07099998888", "+817099998888"),
    ],
)
def test_mobile_numbers_are_sent_in_e164(typed: str, e164: str) -> None:
    assert sms.is_mobile(typed)
    assert sms.to_e164(typed) == e164


@pytest.mark.parametrize("number", ["0312345678", "0120123456", "0901234567", "+819012345678", ""])
def test_numbers_that_cannot_receive_sms_are_refused(number: str) -> None:
    assert not sms.is_mobile(number)
    with pytest.raises(ValueError, match="not a Japanese mobile number"):
        sms.send_sms(number, "テスト")


def test_the_file_backend_appends_one_json_line_per_message(sms_outbox: Any) -> None:
    sms.send_sms("09012345678", "一通目")
    sms.send_sms("08012345678", "二通目")
    assert [(m["to"], m["body"]) for m in sms_outbox.messages] == [
        ("+819012345678", "一通目"),
        ("+818012345678", "二通目"),
    ]


def test_the_console_backend_prints_the_message_for_development(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.MADOGUCHI_SMS_BACKEND = "console"
    sent = sms.send_sms("09012345678", "明日 10:00 のご予約です")
    assert sent == sms.Sent("+819012345678", "console")
    assert capsys.readouterr().out == "--- SMS to +819012345678 ---\n明日 10:00 のご予約です\n---\n"


@dataclass
class Stub:
    """A local HTTP server answering like Twilio's Messages API; it keeps every request."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    reply: tuple[int, dict[str, Any]] = (201, {})


@pytest.fixture
def twilio(settings: Any) -> Iterator[Stub]:
    stub = Stub(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            stub.requests.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("Authorization", ""),
                    "content_type": self.headers.get("Content-Type", ""),
                    "form": urllib.parse.parse_qs(raw.decode("utf-8"), strict_parsing=True),
                }
            )
            status, body = stub.reply
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # `shutdown` returns once the serving loop looks at its flag: every poll interval (0.5 s by
    # default, which each test sat out at its end)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.MADOGUCHI_SMS_BACKEND = "twilio"
    settings.MADOGUCHI_TWILIO_API_BASE = stub.url
    settings.MADOGUCHI_TWILIO_ACCOUNT_SID = SID
    settings.MADOGUCHI_TWILIO_AUTH_TOKEN = TOKEN
    settings.MADOGUCHI_TWILIO_FROM = "+15005550006"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


def test_twilio_gets_one_authenticated_post_with_the_number_in_e164(twilio: Stub) -> None:
    twilio.reply = (201, {"sid": "SM" + "f" * 32, "status": "queued"})
    body = "【みどり市】6月10日（水）10:00はマイナンバーカード窓口のご予約日です。"

    sent = sms.send_sms("090-1234-5678".replace("-", ""), body)

    assert sent == sms.Sent("+819012345678", "SM" + "f" * 32)
    (request,) = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["authorization"] == "Basic " + base64.b64encode(
        f"{SID}:{TOKEN}".encode()
    ).decode("ascii")
    assert request["content_type"].startswith("application/x-www-form-urlencoded")
    assert request["form"] == {"To": ["+819012345678"], "From": ["+15005550006"], "Body": [body]}


def test_a_refusal_from_twilio_raises_with_its_error_code(twilio: Stub) -> None:
    twilio.reply = (
        400,
        {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400},
    )
    with pytest.raises(sms.SmsError, match=r"\(400\): 21211 The 'To' number"):
        sms.send_sms("09012345678", "テスト")


def test_wrong_credentials_are_reported_not_swallowed(twilio: Stub) -> None:
    twilio.reply = (401, {"code": 20003, "message": "Authenticate", "status": 401})
    with pytest.raises(sms.SmsError, match="20003 Authenticate"):
        sms.send_sms("09012345678", "テスト")


def test_an_unreachable_provider_raises_sms_error(twilio: Stub, settings: Any) -> None:
    settings.MADOGUCHI_TWILIO_API_BASE = "http://127.0.0.1:9"  # discard port: refused
    with pytest.raises(sms.SmsError, match="could not be reached"):
        sms.send_sms("09012345678", "テスト")
    assert twilio.requests == []


def test_twilio_without_credentials_refuses_before_sending(twilio: Stub, settings: Any) -> None:
    settings.MADOGUCHI_TWILIO_AUTH_TOKEN = ""
    with pytest.raises(sms.SmsError, match="not configured"):
        sms.send_sms("09012345678", "テスト")
    assert twilio.requests == []
