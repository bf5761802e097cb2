"""Pages seen again are answered before Flask runs, and are never stale.

A page whose view is decorated with `@cached_page` (the orders list) is kept, as the final
answer sent (status, headers, compressed body), per user, address (path and query), the
inputs of language and time zone (the user's settings, the language cookie,
Accept-Language), the session's CSRF secret, the minute, Accept-Encoding and the *data
version* of what the user may see: every organization carries a counter
(`organizations.data_version`) that goes up in the same transaction as any change to its
orders, their updates, confirmations and issues (one `after_flush` hook below: every write
of the app goes through the ORM). So a page is answered from memory only while nothing it
shows has changed in the database, whichever process made the change, and relative times
("5 minutes ago") are at most a minute old.

`PageFront` wraps the WSGI app: for a GET of such a page it reads the signed session cookie,
checks the sign-in and the user exactly as the session loader does (the sign-in has not
ended, the account is active) and reads the data version, in one query; on a hit it answers (or answers 304 to a matching
If-None-Match) without running Flask. Anything else, and every miss, goes to Flask, and the
view's answer is kept on its way out. Pages with a one-time value (a client UUID for the
outbox) are never decorated, and a session with a flash message waiting is never served.
"""
import time
from functools import wraps
from itertools import chain

from flask import current_app, request, session
from flask_login import current_user
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie

from .assets import Recent
from .extensions import db
from .i18n import LANG_COOKIE
from .models import Issue, IssueComment, IssueEvent, Order, Organization
from .models.user import parse_login_id

MAX_BYTES = 8 * 1024 * 1024  # per process
KEY_ENVIRON = "secgo.page_key"
UNCACHED_HEADERS = {"set-cookie", "server-timing", "content-length"}


# Kept answers: (status, headers, body, etag); a body's bytes plus room for its headers.
store = Recent(MAX_BYTES, size=lambda entry: len(entry[2]) + 2048)

# The user of a live sign-in (as secgo.authn.load_user: not ended, same secret), and the
# data version of what they may see, in one query (the same on SQLite and PostgreSQL; {p} is
# the driver's parameter marker).
_SEEN_ORGS = {
    "own": "o.id = u.organization_id",
    "clusters": "o.cluster_id IN (SELECT c.cluster_id FROM cluster_coordinators c "
                "WHERE c.user_id = u.id)",
    "all": "1 = 1",
}
_VERSION = "CASE WHEN u.role IN ('producer', 'customer') THEN ({own}) " \
           "WHEN u.role = 'coordinator' THEN ({clusters}) WHEN u.role = 'admin' THEN ({all}) END"
USER_AND_VERSION_SQL = (
    "SELECT u.id, u.active AND u.password_hash IS NOT NULL, u.locale, u.timezone, "
    "u.role, u.display_name, u.organization_id, "
    + _VERSION.format(**{k: f"SELECT count(*) FROM organizations o WHERE {w}"
                         for k, w in _SEEN_ORGS.items()}) + ", "
    + _VERSION.format(**{k: f"SELECT coalesce(sum(o.data_version), 0) FROM organizations o "
                            f"WHERE {w}" for k, w in _SEEN_ORGS.items()})
    + " FROM user_sessions s JOIN users u ON u.id = s.user_id"
      " WHERE s.id = {p} AND s.secret_hash = {p} AND s.revoked_at IS NULL"
)


def user_and_version(connection, paramstyle: str, login_id: str):
    """(user id, active, locale, time zone, role, name, organization, organizations seen,
    sum of their versions) of the user of a live sign-in (a Flask-Login id), from a DB-API
    connection; None when the sign-in is unknown or ended. Everything of the user that a page
    shows or depends on is in it."""
    parsed = parse_login_id(login_id)
    if parsed is None:
        return None
    marker = "?" if paramstyle == "qmark" else "%s"
    cursor = connection.cursor()
    try:
        cursor.execute(USER_AND_VERSION_SQL.format(p=marker), parsed)
        return cursor.fetchone()
    finally:
        cursor.close()


def page_key(environ, cookies, session_data, user_id: int, row) -> tuple | None:
    """The key of a page for this request, from the raw request, the session and the user's
    row (user_and_version); None when the page must not be cached."""
    if "_flashes" in session_data or "csrf_token" not in session_data or row is None:
        return None
    _user_id, _active, locale, tz, role, name, org, orgs, version = row
    if orgs is None:  # a role that sees no organization
        return None
    return (environ.get("PATH_INFO"), environ.get("QUERY_STRING", ""), user_id, locale, tz,
            role, name, org,
            cookies.get(LANG_COOKIE, ""), environ.get("HTTP_ACCEPT_LANGUAGE", ""),
            session_data["csrf_token"], int(time.time() // 60), int(orgs), int(version))


def cached_page(view):
    """Keep the view's answer for PageFront while the data it shows has not changed."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_app.config.get("PAGE_CACHE", True) and current_user.is_authenticated:
            conn = db.session.connection()
            row = user_and_version(conn.connection.driver_connection, conn.dialect.paramstyle,
                                   current_user.get_id())
            key = page_key(request.environ, request.cookies, session, current_user.id, row)
            if key is not None:
                request.environ[KEY_ENVIRON] = key
        return view(*args, **kwargs)

    wrapper.secgo_cached_page = True
    return wrapper


class PageFront:
    """WSGI middleware: answer a page kept by @cached_page before Flask runs."""

    def __init__(self, app):
        self.app = app
        self.next = app.wsgi_app
        self.serializer = self.engine = self.endpoints = None

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        if environ.get("REQUEST_METHOD") == "GET" and self.app.config.get("PAGE_CACHE", True):
            try:
                answer = self._answer(environ)
            except Exception:  # the cache must never break a page: Flask answers
                self.app.logger.exception("page cache lookup failed")
                answer = None
            if answer is not None:
                status, headers, body = answer
                timing = ("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}")
                start_response(status, [*headers, ("Content-Length", str(len(body))), timing])
                return [body]
        return self._keep(environ, start_response)

    def _cacheable(self, environ) -> bool:
        try:
            endpoint, _args = self.app.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return False
        if self.endpoints is None:
            self.endpoints = {name for name, view in self.app.view_functions.items()
                              if getattr(view, "secgo_cached_page", False)}
        return endpoint in self.endpoints

    def _answer(self, environ):
        cookies = parse_cookie(environ)
        cookie = cookies.get(self.app.config["SESSION_COOKIE_NAME"])
        if not cookie or not self._cacheable(environ):
            return None
        if self.serializer is None:
            self.serializer = self.app.session_interface.get_signing_serializer(self.app)
        try:
            data = self.serializer.loads(
                cookie, max_age=int(self.app.permanent_session_lifetime.total_seconds()))
        except Exception:  # a bad or old cookie: Flask deals with it
            return None
        login_id = data.get("_user_id")
        if parse_login_id(login_id) is None:
            return None
        if self.engine is None:
            with self.app.app_context():
                self.engine = db.engine
        raw = self.engine.raw_connection()
        driver = raw.driver_connection
        # On PostgreSQL, a lone SELECT without a transaction: no ROLLBACK round trip when the
        # connection goes back to the pool.
        single = self.engine.dialect.name == "postgresql" and not driver.autocommit
        try:
            if single:
                driver.autocommit = True
            row = user_and_version(driver, self.engine.dialect.paramstyle, login_id)
        finally:
            if single:
                driver.autocommit = False
            raw.close()
        if row is None or not row[1]:  # as secgo.authn.load_user
            return None
        key = page_key(environ, cookies, data, row[0], row)
        entry = store.get((key, environ.get("HTTP_ACCEPT_ENCODING", ""))) if key else None
        if entry is None:
            return None
        status, headers, body, etag = entry
        match = environ.get("HTTP_IF_NONE_MATCH")
        if match and etag and etag in [tag.strip() for tag in match.split(",")]:
            kept = [h for h in headers if h[0].lower() not in ("content-type", "content-encoding")]
            return "304 NOT MODIFIED", kept, b""
        return status, headers, body

    def _keep(self, environ, start_response):
        seen = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        chunks = self.next(environ, capture)
        key = environ.get(KEY_ENVIRON)
        if key is None or not seen.get("status", "").startswith("200"):
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = [(k, v) for k, v in seen["headers"] if k.lower() not in UNCACHED_HEADERS]
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        store.put((key, environ.get("HTTP_ACCEPT_ENCODING", "")), (seen["status"], headers, body, etag))
        return [body]


# --- the data version goes up with every change ---------------------------------------------

_ISSUE_CHILDREN = (IssueComment, IssueEvent)


def _bump_versions(session: Session, _flush_context) -> None:
    """In the flush's transaction: +1 to every organization whose orders or issues changed."""
    orgs, order_ids, issue_ids = set(), set(), set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, (Order, Issue)):
            orgs.update((obj.producer_org_id, obj.customer_org_id))
        elif isinstance(obj, _ISSUE_CHILDREN):
            issue_ids.add(obj.issue_id)
        elif isinstance(obj, Organization):
            if obj not in session.new:  # a name seen on other organizations' pages
                session.connection().execute(
                    update(Organization.__table__).values(
                        data_version=Organization.__table__.c.data_version + 1))
                return
        elif getattr(obj, "order_id", None) is not None:  # updates, confirmations, links
            order_ids.add(obj.order_id)
    conn = session.connection()
    if order_ids:
        rows = conn.execute(select(Order.producer_org_id, Order.customer_org_id)
                            .where(Order.id.in_(order_ids)))
        orgs.update(chain.from_iterable(rows))
    if issue_ids:
        rows = conn.execute(select(Issue.producer_org_id, Issue.customer_org_id)
                            .where(Issue.id.in_(issue_ids)))
        orgs.update(chain.from_iterable(rows))
    orgs.discard(None)
    if orgs:
        table = Organization.__table__
        conn.execute(update(table).where(table.c.id.in_(sorted(orgs)))
                     .values(data_version=table.c.data_version + 1))


def init_app(app) -> None:
    app.config.setdefault("PAGE_CACHE", True)
    if not event.contains(Session, "after_flush", _bump_versions):
        event.listen(Session, "after_flush", _bump_versions)
    app.wsgi_app = PageFront(app)
