"""VAPID keys: given by SECGO_VAPID_PRIVATE_KEY, else generated once in the instance folder."""
import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app


PRIVATE_FILE = "vapid_private.pem"


@dataclass(frozen=True)
class VapidKeys:
    """The server's VAPID key pair in the forms webpush and the browser want."""

    private_pem: bytes
    public_pem: bytes
    application_server_key: str  # base64url uncompressed point, for PushManager.subscribe()


def b64url(data: bytes) -> str:
    """Unpadded base64url, as Web Push uses everywhere."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; ValueError when malformed."""
    text = text.strip()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as err:
        raise ValueError("not base64url") from err


def _keys(private) -> VapidKeys:
    public = private.public_key()
    point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return VapidKeys(
        private_pem=private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        public_pem=public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        application_server_key=b64url(point),
    )


def parse_private_key(text: str):
    """A P-256 private key from PEM (literal \\n allowed) or a raw base64url scalar."""
    text = text.strip().replace("\\n", "\n")
    if "BEGIN" in text:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        raw = b64url_decode(text)
        if len(raw) != 32:
            raise ValueError("a raw VAPID private key has 32 bytes")
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("VAPID keys are P-256 (prime256v1) keys")
    return key


def _public_matches(keys: VapidKeys, text: str) -> bool:
    text = text.strip().replace("\\n", "\n")
    if "BEGIN" in text:
        return serialization.load_pem_public_key(text.encode()).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ) == keys.public_pem
    return b64url_decode(text) == b64url_decode(keys.application_server_key)


def _instance_key(instance_path: str):
    path = Path(instance_path) / PRIVATE_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = _keys(ec.generate_private_key(ec.SECP256R1())).private_pem
        tmp = path.with_name(f"{PRIVATE_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        try:
            os.link(tmp, path)  # never replaces: two first starts agree on one key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return parse_private_key(path.read_text())


def load_keys(app=None) -> VapidKeys:
    """The VAPID keys: from the environment/config, else the instance folder (created once)."""
    app = app or current_app
    cached = app.extensions.get("secgo_vapid")
    if cached is not None:
        return cached
    configured = app.config["VAPID_PRIVATE_KEY"]
    if configured:
        keys = _keys(parse_private_key(configured))
        public = app.config["VAPID_PUBLIC_KEY"]
        if public and not _public_matches(keys, public):
            raise ValueError("SECGO_VAPID_PUBLIC_KEY does not belong to SECGO_VAPID_PRIVATE_KEY")
    else:
        keys = _keys(_instance_key(app.instance_path))
    app.extensions["secgo_vapid"] = keys
    return keys


def key_file(app=None) -> Path:
    """Where the generated private key lives."""
    return Path((app or current_app).instance_path) / PRIVATE_FILE
