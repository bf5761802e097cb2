"""Where the page cache (secgo/pagecache.py) keeps its pages: this process's memory, and Redis,
shared by every worker and instance.

With gunicorn's workers each keeping its own pages, a person's next view reached the worker
that had kept their page only one time in as many as there are workers, and a second instance
never. So a kept page also goes to Redis (the one the rate limits use in production,
`SECGO_PAGE_CACHE_STORE_URI` to choose another, `memory://` for none), where every process finds
it. That cannot make a page stale: the key holds everything the page depends on, read from the
database at each request (secgo/pagecache.py), so a process can only find a page whose data is
still current; what differs between processes is kept out of what is shared (the one-time-id
placeholder travels with its page), and a deployment's code is in the key (two versions of the
app side by side never serve each other's pages).

What goes to Redis is signed with a key derived from SECRET_KEY and bound to its Redis key: a
page someone wrote into Redis, or moved from one key to another, is never served. The Redis key
is a digest of the page key (no session secret or user id in it). A page leaves Redis when it
may no longer be served (its `expires`, secgo/pagecache.py's MAX_AGE_SECONDS). Redis down,
slow or answering nonsense: the page is rendered as if not kept (logged once per outage, then
left alone for `RETRY_SECONDS`), never an error.
"""
import hashlib
import hmac
import json
import logging
import struct
import threading
import time
import zlib
from functools import cache
from pathlib import Path

from .assets import Recent

log = logging.getLogger(__name__)

MAX_BYTES = 8 * 1024 * 1024  # in each process
RETRY_SECONDS = 10  # after Redis failed, pages are kept in memory only for this long
TIMEOUT_SECONDS = 0.25  # a page must not wait for Redis longer than a render takes


def _entry_size(entry) -> int:
    return len(entry[2]) + 2048  # the body plus room for its headers


@cache  # the code does not change under a running process
def code_digest() -> str:
    """A digest of the app's code, templates, catalogs and static files: processes of two
    versions of the app, side by side during a deploy, never share a page."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".mo", ".js", ".css", ".svg", ".json"):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class PageStore:
    """Kept answers by key: (status, headers, body, etag, placeholder, expires, tabs),
    placeholder being the bytes in the body to fill with one-time ids (pagecache.one_time_id),
    or b"", expires the time.time() after which the page is not served, and tabs what says
    where its tab numbers go (pagecache.tab_later), or ""."""

    def __init__(self, redis_uri: str | None = None, prefix: str = "secgo", secret: bytes = b"",
                 build: str = ""):
        self.local = Recent(MAX_BYTES, size=_entry_size)
        self.redis_uri = redis_uri
        self.prefix = f"{prefix}:page:{build}:"
        self.mac_key = hmac.new(secret, b"secgo page store", hashlib.sha256).digest()
        self._client = None
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def shared(self) -> bool:
        return self.redis_uri is not None

    def _redis(self):
        if self._client is None:
            import redis

            with self._lock:
                if self._client is None:
                    self._client = redis.Redis.from_url(
                        self.redis_uri, socket_timeout=TIMEOUT_SECONDS,
                        socket_connect_timeout=TIMEOUT_SECONDS)
        return self._client

    def redis_key(self, key) -> str:
        return self.prefix + hashlib.sha256(repr(key).encode()).hexdigest()

    def _sign(self, name: str, payload: bytes) -> bytes:
        return hmac.new(self.mac_key, name.encode() + b"\0" + payload, hashlib.sha256).digest()

    def _usable(self) -> bool:
        return self.shared and time.monotonic() >= self._down_until

    def _failed(self, what: str) -> None:
        if time.monotonic() >= self._down_until:
            log.warning("page store: Redis %s failed; pages are kept in this process only for "
                        "%d s", what, RETRY_SECONDS, exc_info=True)
        self._down_until = time.monotonic() + RETRY_SECONDS

    def get(self, key):
        entry = self.local.get(key)
        if entry is not None or not self._usable():
            return entry
        name = self.redis_key(key)
        try:
            value = self._redis().get(name)
        except Exception:  # redis.RedisError, a timeout, a refused connection
            self._failed("read")
            return None
        if value is None:
            return None
        entry = self._decode(name, value)
        if entry is not None:
            self.local.put(key, entry)
        return entry

    def put(self, key, entry) -> None:
        self.local.put(key, entry)
        if not self._usable():
            return
        name = self.redis_key(key)
        life = int((entry[5] - time.time()) * 1000)
        if life <= 0:
            return
        try:
            self._redis().set(name, self._encode(name, entry), px=life)
        except Exception:
            self._failed("write")

    def clear(self) -> None:
        """Forget every kept page of this app, here and in Redis."""
        self.local.clear()
        if self.shared:
            client = self._redis()
            for name in client.scan_iter(match=self.prefix + "*", count=500):
                client.delete(name)

    def _encode(self, name: str, entry) -> bytes:
        status, headers, body, etag, placeholder, expires, tabs = entry
        if placeholder:  # kept uncompressed to be filled: smaller in Redis and on the way
            body = zlib.compress(body, 1)
        head = json.dumps([status, headers, etag, placeholder.decode(), expires, tabs]).encode()
        payload = struct.pack(">I", len(head)) + head + body
        return self._sign(name, payload) + payload

    def _decode(self, name: str, value: bytes):
        mac, payload = value[:32], value[32:]
        if not hmac.compare_digest(mac, self._sign(name, payload)):
            log.warning("page store: a page in Redis is not signed by this app; not served")
            return None
        try:
            (size,) = struct.unpack(">I", payload[:4])
            status, headers, etag, placeholder, expires, tabs = json.loads(payload[4:4 + size])
            body = payload[4 + size:]
            placeholder = placeholder.encode()
            if placeholder:
                body = zlib.decompress(body)
        except (ValueError, struct.error, zlib.error, TypeError):
            log.warning("page store: a signed page in Redis could not be read; not served")
            return None
        return status, [tuple(h) for h in headers], body, etag, placeholder, float(expires), str(tabs)
