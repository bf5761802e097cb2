"""Local fakes of the two providers on 127.0.0.1, strict about what their documented APIs take.

FakeTelegram speaks the Bot API (https://core.telegram.org/bots/api): POST /bot<token>/<method>
with a JSON body; sendMessage, setWebhook, deleteWebhook and getUpdates; answers
{"ok": true, "result": ...} or {"ok": false, "error_code", "description", "parameters"}.
FakeSmsGateway speaks SMS Gateway for Android's (https://docs.sms-gate.app): POST /message
with HTTP Basic auth and {"id"?, "textMessage": {"text"}, "phoneNumbers": [...]}; 202.

Each records every request; `script` holds answers (status, body, headers) given before the
normal one, to test retries, 403s and redirects.
"""
import base64
import json
import time
from http.server import BaseHTTPRequestHandler

from tests.pushservice import LocalHTTPService

TELEGRAM_METHODS = {"sendMessage", "setWebhook", "deleteWebhook", "getUpdates"}


class _Fake(LocalHTTPService):
    def __init__(self):
        self.requests: list[dict] = []  # {"method", "path", "headers", "body"}
        self.errors: list[str] = []
        self.script: list[tuple] = []
        self.delay = 0.0
        self.hold = None  # a threading.Event: each answer waits until the test sets it
        self.during = None  # called (in the fake's thread) as each request arrives
        self._start_server()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def _serve(self, method):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake.lock:
                    fake.requests.append({"method": method, "path": self.path, "headers": headers,
                                          "raw": raw})
                    scripted = fake.script.pop(0) if fake.script else None
                if fake.during:
                    fake.during()
                if scripted is not None:
                    status, body, extra = (list(scripted) + [None, None])[:3]
                else:
                    try:
                        status, body, extra = fake.handle(method, self.path, headers, raw)
                    except AssertionError as err:
                        with fake.lock:
                            fake.errors.append(str(err))
                        status, body, extra = 400, {"ok": False, "error_code": 400,
                                                    "description": f"Bad Request: {err}"}, None
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.hold is not None:
                    fake.hold.wait(60)
                data = json.dumps(body or {}).encode()
                try:
                    self.send_response(status)
                    for key, value in (extra or {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller timed out and hung up, as it should

        return Handler


class FakeTelegram(_Fake):
    """The Bot API for one bot token."""

    def __init__(self, token="123456:test-token"):
        super().__init__()
        self.token = token
        self.sent: list[dict] = []
        self.webhook: dict | None = None
        self.message_id = 0
        self.updates: list[dict] = []  # what people sent the bot, for getUpdates

    def calls(self, method):
        return [json.loads(r["raw"]) for r in self.requests
                if r["path"] == f"/bot{self.token}/{method}" and r["raw"]]

    def handle(self, method, path, headers, raw):
        assert method == "POST", "the Bot API is called with POST here"
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, None
        name = path[len(prefix):]
        if name not in TELEGRAM_METHODS:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, None
        assert headers.get("content-type", "").startswith("application/json"), headers.get("content-type")
        body = json.loads(raw.decode("utf-8"))
        if name == "sendMessage":
            return self._send(body)
        if name == "setWebhook":
            assert body["url"].startswith("https://") or body["url"].startswith("http://127.0.0.1")
            secret = body.get("secret_token", "")
            assert 1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)
            self.webhook = body
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}, None
        if name == "deleteWebhook":
            self.webhook = None
            return 200, {"ok": True, "result": True}, None
        # getUpdates: what is waiting from `offset` on; an offset confirms (forgets) the earlier.
        assert isinstance(body.get("timeout", 0), int) and 0 <= body.get("timeout", 0) <= 50
        offset = body.get("offset")
        if offset is not None:
            assert isinstance(offset, int)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        return 200, {"ok": True, "result": list(self.updates)}, None

    def _send(self, body):
        assert isinstance(body.get("chat_id"), int), "chat_id"
        text = body.get("text")
        assert isinstance(text, str) and 1 <= len(text) <= 4096, "text"
        if "parse_mode" in body:
            assert body.get("parse_mode") == "HTML", "parse_mode"
            _check_html(text)
        keyboard = body.get("reply_markup", {}).get("inline_keyboard", [])
        for row in keyboard:
            for button in row:
                assert set(button) == {"text", "url"} and button["url"].startswith(("http://", "https://"))
        self.message_id += 1
        self.sent.append(body)
        return 200, {"ok": True, "result": {"message_id": self.message_id,
                                            "chat": {"id": body["chat_id"], "type": "private"},
                                            "date": int(time.time()), "text": text}}, None


def _check_html(text):
    """Telegram's HTML mode: only its tags, and every other <, > and & escaped."""
    import re

    stripped = re.sub(r"</?(b|strong|i|em|u|s|a|code|pre)( [^<>]*)?>", "", text)
    assert "<" not in stripped and ">" not in stripped, f"unescaped markup in {text!r}"
    assert not re.search(r"&(?!(lt|gt|amp|quot);)", stripped), f"unescaped & in {text!r}"


class FakeSmsGateway(_Fake):
    """The SMS Gateway for Android app's local server."""

    def __init__(self, user="sms", password="test-password"):
        super().__init__()
        self.credentials = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.messages: list[dict] = []

    def handle(self, method, path, headers, raw):
        if headers.get("authorization") != self.credentials:
            return 401, {"message": "Unauthorized"}, None
        assert method == "POST" and path == "/message", f"{method} {path}"
        assert headers.get("content-type", "").startswith("application/json")
        body = json.loads(raw.decode("utf-8"))
        assert set(body) <= {"id", "textMessage", "phoneNumbers"}, sorted(body)
        text = body["textMessage"]["text"]
        assert isinstance(text, str) and text
        # Two UCS-2 segments at most (what SEC GO! promises to pay for): 134 units.
        assert len(text.encode("utf-16-le")) // 2 <= 134, f"longer than two segments: {text!r}"
        numbers = body["phoneNumbers"]
        assert isinstance(numbers, list) and len(numbers) == 1 and numbers[0].startswith("+")
        if "id" in body:
            assert isinstance(body["id"], str) and len(body["id"]) <= 36
        self.messages.append(body)
        return 202, {"id": body.get("id", f"m{len(self.messages)}"), "state": "Pending",
                     "recipients": [{"phoneNumber": numbers[0], "state": "Pending"}]}, None

    def texts_to(self, number):
        return [m["textMessage"]["text"] for m in self.messages if m["phoneNumbers"] == [number]]
