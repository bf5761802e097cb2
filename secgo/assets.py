"""Fast on 2G: fingerprinted static URLs, long caching, brotli/gzip, Server-Timing.

- ``url_for('static', filename=...)`` (and the ``static_url`` template global) adds
  ``?v=<content hash>``. A request carrying the current hash is cached for a year as
  ``immutable``; any other static request gets a short lifetime and an ETag. A file's hash
  is read once per process, except in development (debug mode, or TEMPLATES_AUTO_RELOAD),
  where an edited file gets its new hash at once.
- JavaScript modules have their relative ``import`` specifiers, and stylesheets their
  relative ``url()`` references, rewritten to fingerprinted URLs when served, so a module
  graph is cached as a whole and a change in one module changes every URL that leads to it.
- Static files are compressed once (brotli at its best quality, gzip) and kept in memory.
- Page and API answers are compressed on the fly (brotli quality 5, else gzip) when the
  client accepts it and the body is worth it. Streams, ranges and images are left alone.

Compressing pages that carry a CSRF token invites BREACH only when an attacker can make the
victim's browser send many credentialed requests; the session cookie is SameSite=Lax, so
cross-site subresource requests carry no cookie.
"""
import gzip
import hashlib
import mimetypes
import os
import posixpath
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import brotli
from flask import current_app, g, request, url_for
from werkzeug.exceptions import NotFound
from werkzeug.http import parse_accept_header
from werkzeug.security import safe_join

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300, must-revalidate"
MIN_SIZE = 512  # below this, compression saves less than a packet
MAX_STATIC_BYTES = 2 * 1024 * 1024  # larger static files are sent from disk, uncompressed
DYNAMIC_BROTLI_QUALITY = 5  # about 1 ms for a 20 KB page, within a few % of the best ratio
COMPRESSIBLE = {
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/problem+json",
    "application/manifest+json",
    "application/xml",
    "image/svg+xml",
    "text/csv",
}
EXTRA_TYPES = {".webmanifest": "application/manifest+json", ".js": "text/javascript",
               ".mjs": "text/javascript", ".svg": "image/svg+xml"}

JS_IMPORT = re.compile(
    r"""(\bimport\s*\(\s*|\bfrom\s*|\bimport\s+)(['"])(\.{1,2}/[^'"?#]+)\2"""
)
CSS_URL = re.compile(r"""url\(\s*(['"]?)(?!data:|https?:|/|#)([^'")?#]+)\1\s*\)""")


@dataclass
class Asset:
    """One static file as served: its bytes in each encoding and its fingerprint."""

    stamp: tuple
    mimetype: str
    digest: str
    mtime: float
    folder: str
    bodies: dict = field(default_factory=dict)  # encoding ("identity", "br", "gzip") -> bytes
    deps: dict = field(default_factory=dict)  # imported filename -> its digest when built


_cache: dict[str, Asset] = {}
_lock = threading.RLock()


def _mimetype(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return EXTRA_TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def _load(folder: str, filename: str, _seen: frozenset = frozenset()) -> Asset | None:
    """The Asset for a file of the static folder (built once per content), or None."""
    path = safe_join(folder, filename)
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.path.isfile(path) or st.st_size > MAX_STATIC_BYTES:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    asset = _cache.get(path)
    seen = _seen | {filename}
    if asset is not None and asset.stamp == stamp and not _deps_changed(asset, seen):
        return asset
    with _lock:
        asset = _cache.get(path)
        if asset is not None and asset.stamp == stamp and not _deps_changed(asset, seen):
            return asset  # another thread built it meanwhile
        data = Path(path).read_bytes()
        mimetype = _mimetype(path)
        deps: dict[str, str] = {}
        if mimetype == "text/javascript" or mimetype == "text/css":
            data = _rewrite(folder, filename, data, mimetype, seen, deps)
        digest = hashlib.sha256(data).hexdigest()[:12]
        asset = Asset(stamp=stamp, mimetype=mimetype, digest=digest, mtime=st.st_mtime,
                      folder=folder, deps=deps)
        asset.bodies["identity"] = data
        if mimetype in COMPRESSIBLE and len(data) >= 64:
            br = brotli.compress(data, quality=11)
            gz = gzip.compress(data, compresslevel=9, mtime=0)
            if len(br) < len(data):
                asset.bodies["br"] = br
            if len(gz) < len(data):
                asset.bodies["gzip"] = gz
        _cache[path] = asset
        return asset


def _deps_changed(asset: Asset, seen: frozenset) -> bool:
    for dep, digest in asset.deps.items():
        if dep in seen:
            continue
        current = _load(asset.folder, dep, seen)
        if current is None or current.digest != digest:
            return True
    return False


def _rewrite(folder, filename, data, mimetype, seen, deps) -> bytes:
    """Add ?v=<hash> to relative imports (JS) and url() references (CSS)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    base = posixpath.dirname(filename)

    def versioned(ref: str) -> str:
        target = posixpath.normpath(posixpath.join(base, ref))
        if target.startswith("..") or target in seen:
            return ref  # outside the folder, or an import cycle: leave it
        dep = _load(folder, target, seen)
        if dep is None:
            return ref
        deps[target] = dep.digest
        return f"{ref}?v={dep.digest}"

    if mimetype == "text/javascript":
        text = JS_IMPORT.sub(lambda m: f"{m[1]}{m[2]}{versioned(m[3])}{m[2]}", text)
    else:
        text = CSS_URL.sub(lambda m: f"url({m[1]}{versioned(m[2])}{m[1]})", text)
    return text.encode("utf-8")


# Fingerprints by (folder, filename), once found, while the files are taken not to change
# under the running app: url_for('static') runs several times a page, and each check reads
# the file's metadata and that of every module it imports. In development (templates
# reloaded when changed: debug mode, or TEMPLATES_AUTO_RELOAD) an edited file gets its new
# fingerprint at once.
_fingerprints: dict[tuple[str, str], str] = {}


def fingerprint(filename: str) -> str | None:
    """The content hash of a static file, or None when it does not exist."""
    app = current_app._get_current_object()
    folder = app.static_folder
    digest = None if app.jinja_env.auto_reload else _fingerprints.get((folder, filename))
    if digest is None:
        asset = _load(folder, filename)
        if asset is None:
            return None
        digest = _fingerprints[folder, filename] = asset.digest
    return digest


def static_url(filename: str, **values) -> str:
    """URL of a static file with its fingerprint (for templates and the service worker)."""
    return url_for("static", filename=filename, **values)


def _choose_encoding(available) -> str:
    accept = request.accept_encodings
    for encoding in ("br", "gzip"):
        if encoding in available and accept[encoding] > 0:
            return encoding
    return "identity"


def serve_static(filename):
    """The static view: in-memory, pre-compressed, fingerprint-aware, conditional."""
    asset = _load(current_app.static_folder, filename)
    if asset is None:
        if safe_join(current_app.static_folder, filename) is None:
            raise NotFound()
        return current_app.send_static_file(filename)  # large file, or 404
    encoding = _choose_encoding(asset.bodies)
    response = current_app.response_class(asset.bodies[encoding], mimetype=asset.mimetype)
    if asset.mimetype.startswith("text/") or asset.mimetype.endswith(("json", "javascript")):
        response.charset = "utf-8"
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    if len(asset.bodies) > 1:
        response.vary.add("Accept-Encoding")
    response.set_etag(asset.digest if encoding == "identity" else f"{asset.digest}-{encoding}")
    response.last_modified = asset.mtime
    fresh = request.args.get("v") == asset.digest
    response.headers["Cache-Control"] = IMMUTABLE if fresh else SHORT
    return response.make_conditional(request)


# Set in the WSGI environ by a page whose body carries one-time values still to be filled in
# (secgo/pagecache.py): it compresses each answer itself, once the values are in.
FILL_LATER = "secgo.fill_later"


def _compress(response):
    """Compress a buffered text answer when the client accepts it; leave anything else."""
    if request.environ.get(FILL_LATER):
        response.vary.add("Accept-Encoding")
        return response
    if (
        response.direct_passthrough
        and response.status_code == 200
        and response.mimetype in COMPRESSIBLE
        and (response.content_length or MAX_STATIC_BYTES + 1) <= MAX_STATIC_BYTES
    ):
        # A small text file sent from disk (the service worker): read it now, and close it.
        body = response.response
        response.direct_passthrough = False
        try:
            response.set_data(b"".join(body))
        finally:
            if hasattr(body, "close"):
                body.close()
    if (
        response.direct_passthrough
        or response.is_streamed
        or not response.is_sequence
        or response.status_code < 200
        or response.status_code in (204, 206, 304)
        or "Content-Encoding" in response.headers
        or "Content-Range" in response.headers
        or response.mimetype not in COMPRESSIBLE
        or "no-transform" in (response.headers.get("Cache-Control") or "")
    ):
        return response
    response.vary.add("Accept-Encoding")
    data = response.get_data()
    if len(data) < MIN_SIZE:
        return response
    encoding = _choose_encoding(("br", "gzip"))
    if encoding == "identity":
        return response
    digest = hashlib.sha1(data).hexdigest()[:20]
    if response.status_code == 200 and request.method in ("GET", "HEAD") and not response.get_etag()[0]:
        # A revalidation answered with 304 costs a few hundred bytes instead of the page.
        response.set_etag(digest, weak=True)
        response.make_conditional(request)
        if response.status_code == 304:
            return response
    elif response.get_etag()[0] and not response.get_etag()[1]:
        etag, _weak = response.get_etag()
        response.set_etag(etag, weak=True)  # the bytes differ from the identity encoding
    response.set_data(_compressed_once(data, encoding, digest))
    response.headers["Content-Encoding"] = encoding
    return response


def encode_for(accept_encoding: str, data: bytes, again: bool = False) -> tuple[str, bytes]:
    """(encoding, body) of a page answer for an Accept-Encoding header, outside a request.
    again: the same bytes may well be sent again (a kept page with its numbers and times put
    in, and no one-time ids): compressed once, kept by their digest like any answer's."""
    if len(data) >= MIN_SIZE:
        accept = parse_accept_header(accept_encoding)
        for encoding in ("br", "gzip"):
            if accept[encoding] > 0:
                return encoding, (_compressed_once(data, encoding) if again else _encode(data, encoding))
    return "identity", data


def _compressed_once(data: bytes, encoding: str, digest: str | None = None) -> bytes:
    """`data` compressed, once for the same bytes (kept by their digest in `_compressed`)."""
    digest = digest or hashlib.sha1(data).hexdigest()[:20]
    return _compressed.get_or_make((digest, encoding), lambda: _encode(data, encoding))


def _encode(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(data, quality=DYNAMIC_BROTLI_QUALITY)
    return gzip.compress(data, compresslevel=6, mtime=0)


class Recent:
    """A least-recently-used map bounded by the total size of its values (size(value) bytes),
    safe with threaded workers. Used for compressed bodies here and kept pages in pagecache."""

    def __init__(self, max_bytes: int, size=len):
        self.max_bytes, self.weigh, self.total, self.items = max_bytes, size, 0, OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        cost = self.weigh(value)
        if cost > self.max_bytes // 8:  # one value never pushes out most of the others
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.total -= self.weigh(old)
            self.items[key] = value
            self.total += cost
            while self.total > self.max_bytes:
                _key, dropped = self.items.popitem(last=False)
                self.total -= self.weigh(dropped)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.total = 0

    def get_or_make(self, key, make):
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value


# The compressed forms of the most recent bodies, so that a page served again unchanged
# (secgo/pagecache.py, a repeated API answer) is compressed once.
_compressed = Recent(2 * 1024 * 1024)


def init_app(app):
    """Serve static files from memory with fingerprints; compress answers; time requests."""
    app.view_functions["static"] = serve_static

    @app.url_defaults
    def _fingerprint_static(endpoint, values):
        if endpoint == "static" and "v" not in values and "filename" in values:
            digest = fingerprint(values["filename"])
            if digest:
                values["v"] = digest

    app.jinja_env.globals["static_url"] = static_url

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        started = g.get("request_started")
        response = _compress(response)
        if started is not None:
            elapsed = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
        return response
