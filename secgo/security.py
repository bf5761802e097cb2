"""Security headers and the SQLite connection settings."""
import contextvars

from flask import request
from sqlalchemy import event

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",  # voice notes, and a recording played back before it is sent
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Set for requests that write: SQLite then takes the write lock at BEGIN, so two writers
# queue on the busy timeout instead of failing on a lock upgrade.
write_intent = contextvars.ContextVar("secgo_write_intent", default=False)


def configure_sqlite(engine) -> None:
    """WAL, foreign keys, busy timeout; BEGIN IMMEDIATE for writing requests."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite recipe)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 15000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def init_app(app):
    """Add security headers to every answer; mark write requests; trust a proxy's headers."""
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        # Behind a TLS proxy every request comes from the proxy's address: take the client's
        # address (per-address throttling) and scheme from the proxy's X-Forwarded-* headers,
        # trusting only as many hops as are really there (more would let clients spoof them).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.before_request
    def _mark_writes():
        write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=(self)")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static" and "Cache-Control" not in h:
            h["Cache-Control"] = "no-store" if response.mimetype == "application/json" else "private, no-cache"
        h.add("Vary", "Cookie")
        return response
