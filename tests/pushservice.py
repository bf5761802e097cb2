"""A real Web Push service on 127.0.0.1 for the tests.

It does what FCM or Mozilla's autopush do on receipt, strictly: checks the VAPID JWT
(ES256 signature against the application server's public key, aud = our origin, exp in the
next 24 hours, sub a mailto: or https: URI), the headers (aes128gcm, octet-stream, a real
TTL, Urgency), decrypts the payload with the subscriber's private key (http_ece), and
records what it got. Each subscription can be told to answer with a script of statuses
(503, 429 with Retry-After, 410, a redirect ...) before the default 201.
"""
import base64
import json
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.live import POLL


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    """One push the service accepted, decrypted."""

    token: str
    payload: dict
    headers: dict
    claims: dict


@dataclass
class Device:
    """A browser's side of a subscription: its private key and auth secret."""

    token: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    script: list = field(default_factory=list)  # [(status, headers)] answered before 201

    def subscription(self, base: str) -> dict:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": f"{base}/push/{self.token}",
                "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}


class LocalHTTPService:
    """A threaded HTTP server on 127.0.0.1 for a fake outside service (push, Telegram, SMS):
    `with Fake() as fake:` serves `fake._handler()` at `fake.origin` until the block ends."""

    def _start_server(self):
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       kwargs={"poll_interval": POLL})

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class PushService(LocalHTTPService):
    """Start with `with PushService(vapid_public_key) as service:`."""

    def __init__(self, application_server_key: str | None = None, delay: float = 0.0):
        self.application_server_key = application_server_key
        self.delay = delay
        self.devices: dict[str, Device] = {}
        self.received: list[Received] = []
        self.errors: list[str] = []
        self.requests: list[str] = []  # every request line, accepted or not
        self._start_server()

    def new_device(self, script=()) -> Device:
        device = Device(token=b64url(os.urandom(12)), private_key=ec.generate_private_key(ec.SECP256R1()),
                        auth=os.urandom(16), script=list(script))
        self.devices[device.token] = device
        return device

    def subscription(self, device: Device) -> dict:
        return device.subscription(self.origin)

    def for_device(self, device: Device) -> list[Received]:
        return [r for r in self.received if r.token == device.token]

    def count(self) -> dict:
        counts = defaultdict(int)
        for r in self.received:
            counts[(r.token, r.payload.get("id"))] += 1
        return dict(counts)

    # --- the HTTP side ------------------------------------------------------------------

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with service.lock:
                    service.requests.append(f"GET {self.path}")
                self._answer(405)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with service.lock:
                    service.requests.append(f"POST {self.path}")
                status, headers = service.handle(self.path, dict(self.headers.items()), body)
                if service.delay:
                    time.sleep(service.delay)
                self._answer(status, headers)

            def _answer(self, status, headers=None):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def handle(self, path: str, headers: dict, body: bytes):
        headers = {k.lower(): v for k, v in headers.items()}
        if not path.startswith("/push/"):
            return 404, {}
        device = self.devices.get(path[len("/push/"):])
        if device is None:
            return 404, {}
        with self.lock:
            if device.script:
                return device.script.pop(0)
        try:
            claims = self.check(headers)
            plain = http_ece.decrypt(body, private_key=device.private_key, auth_secret=device.auth,
                                     version="aes128gcm")
            payload = json.loads(plain.decode("utf-8"))
        except Exception as err:  # noqa: BLE001 - every refusal is recorded for the test
            with self.lock:
                self.errors.append(f"{type(err).__name__}: {err}")
            return 400, {}
        with self.lock:
            self.received.append(Received(device.token, payload, headers, claims))
        return 201, {"Location": f"{self.origin}/message/{len(self.received)}"}

    def check(self, headers: dict) -> dict:
        """Refuse what a real push service refuses; return the VAPID claims."""
        assert headers.get("content-encoding") == "aes128gcm", headers.get("content-encoding")
        assert headers.get("content-type") == "application/octet-stream", headers.get("content-type")
        ttl = int(headers.get("ttl", "-1"))
        assert ttl >= 24 * 3600, f"TTL {ttl} is too short for phones that stay offline"
        assert headers.get("urgency") in ("very-low", "low", "normal", "high"), headers.get("urgency")
        topic = headers.get("topic")
        assert topic is None or (len(topic) <= 32 and all(c.isalnum() or c in "-_" for c in topic))
        scheme, _, params = headers.get("authorization", "").partition(" ")
        assert scheme.lower() == "vapid", "not a VAPID authorization"
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        key = parts["k"]
        if self.application_server_key is not None:
            assert key == self.application_server_key, "k is not the application server key"
        point = b64url_decode(key)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        claims = jwt.decode(parts["t"], public, algorithms=["ES256"], audience=self.origin,
                            options={"require": ["aud", "exp", "sub"]})
        assert claims["exp"] <= time.time() + 24 * 3600 + 60, "exp more than 24 hours ahead"
        sub = claims["sub"]
        assert sub.startswith(("mailto:", "https:")) and not sub.startswith("mailto:mailto:"), sub
        return claims
