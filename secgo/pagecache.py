"""Pages seen again are answered before Flask runs, and are never stale.

A page whose view is decorated with `@cached_page` (the orders and issues lists, the order page) is kept, as the final
answer sent (status, headers, compressed body), per user, address (path and query), the
inputs of language and time zone (the user's settings, the language cookie,
Accept-Language), the session's CSRF secret, Accept-Encoding and the *data
version* of what the user may see: the organizations `authz.visible_orgs_clause` gives the
user (every order and issue they may see has one of its two organizations there), counted,
and the sums of their ids and of their `organizations.data_version`, and the user's latest
read mark that can matter (secgo.readmarks: the unread marks are per user, and opening an
order with news moves it; a mark at or before the person's floor is left out). That counter goes up in
the same transaction as any change to the organization's orders, their updates,
confirmations, links and issues, and to the organization itself or its cluster (then its
trading partners' go up too: its name is on their pages): one `after_flush` hook on the app's session
(`db.session`; every write of the app goes through it), touching only the organizations the
change belongs to. So a page is answered from memory only while nothing it shows has changed
in the database, whichever process made the change; and a kept page is served for at most
`MAX_AGE_SECONDS` after it was made, so relative times ("5 minutes ago") are at most a minute
old (each page its own minute from its render, rather than all of them going cold together
as the clock turns a minute).

Kept pages live in secgo/pagestore.py: in the process that served them and in Redis, shared
by every worker and instance (the key is the same wherever it is computed).

`PageFront` wraps the WSGI app: for a GET of such a page it reads the signed session cookie,
and in one query checks the sign-in (`UserSession.live_since`, as secgo.authn.load_user) and
reads the user and the data version; on a hit it answers (or answers 304 to a matching
If-None-Match) without running Flask. That query is built with SQLAlchemy Core from the
`authz` rule and compiled once per engine, then run on the driver's connection (a hit costs
a fraction of a millisecond). Anything else, and every miss, goes to Flask, and the view's
answer is kept on its way out. A session with a flash message waiting is never served.

A page whose forms carry one-time client ids (the order page: a form posted without
JavaScript is stored once by its id, so two answers must never carry the same one) asks for
them with `one_time_id()`: while the page is being kept, that gives a placeholder, the body is
kept uncompressed, and every answer, the first one too, gets a fresh UUID for each placeholder
and is compressed then (about a millisecond, against several for a render); such an answer
has no ETag, so a browser never revalidates an old copy with its used ids. Opening the order
page moves the person's read mark when there is news: that answer is not kept (the mark
is in the key: it would never be asked for again), so a page answered from memory is always
one whose visit would have moved nothing. What the order page shows and no organization's
version covers is the route's expected arrival (a rollup refreshed in the background): a
kept page shows a refresh at most a minute late, as it shows relative times.
"""
import secrets
import time
import uuid
import weakref
from functools import wraps
from itertools import chain
from types import SimpleNamespace

from flask import current_app, request, session
from flask_login import current_user
from sqlalchemy import (Integer, and_, bindparam, case, event, func, literal_column, select, union,
                        update)
from sqlalchemy.orm import Session, aliased
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie

from .assets import FILL_LATER, encode_for
from .authz import visible_orgs_clause
from .extensions import db
from .i18n import LANG_COOKIE
from .models import (Attachment, AuditEvent, Cluster, Issue, Notification, Order, Organization, PushDelivery,
                     ReadMark, User, UserSession, utcnow)
from .models.user import ROLES, parse_login_id
from .ops.observe import kept_answer_seen
from .pagestore import PageStore, code_digest
from .readmarks import mark_floor_low, mark_version_expr

KEY_ENVIRON = "secgo.page_key"
READ_KEY_ENVIRON = "secgo.page_key_read"  # PageFront's key of a page it did not have
MAX_AGE_SECONDS = 60  # relative times on a kept page are at most this old
UNCACHED_HEADERS = {"set-cookie", "server-timing", "content-length", "x-request-id"}


# Kept answers (secgo/pagestore.py): (status, headers, body, etag, placeholder, expires);
# placeholder: the body is uncompressed and carries it where one-time ids go (see one_time_id),
# or b""; expires: the time (time.time()) after which it is not served.
STORE_EXTENSION = "secgo_page_store"

# Never in a page otherwise: unguessable, made anew in every process (a page kept by another
# process carries that process's placeholder with it).
PLACEHOLDER = f"one-time-id-{secrets.token_hex(12)}"
_PLACEHOLDER = PLACEHOLDER.encode()


# The signed-in user's row in the statement below. authz's rule is applied to "a user of this
# role" whose id and organization are this row's columns, named in SQL (literal_column), so
# that subqueries at any depth refer to it (SQLAlchemy correlates only one level by itself);
# the alias's name is one no other table in the statement has.
_ME = "page_cache_user"
_me = aliased(User, name=_ME)


def _seen_by_role(aggregate):
    """The aggregate over the organizations the row's user may see: one subquery per role,
    of which the database evaluates only the user's (NULL for no known role)."""
    whens = []
    for role in ROLES:
        who = SimpleNamespace(is_authenticated=True, role=role,
                              id=literal_column(f"{_ME}.id", Integer),
                              organization_id=literal_column(f"{_ME}.organization_id", Integer))
        seen = select(aggregate).select_from(Organization).where(visible_orgs_clause(who))
        whens.append((_me.role == role, seen.scalar_subquery()))
    return case(*whens)


def user_and_version_statement():
    """The user of a live sign-in and the data version of what they may see, in one SELECT
    (binds: sid, secret_hash, seen_after, mark_floor)."""
    return (
        select(_me.id, and_(_me.active, _me.password_hash.is_not(None)),  # User.is_active
               _me.locale, _me.timezone, _me.role, _me.display_name, _me.organization_id,
               _seen_by_role(func.count()),
               _seen_by_role(func.coalesce(func.sum(Organization.id), 0)),
               _seen_by_role(func.coalesce(func.sum(Organization.data_version), 0)),
               mark_version_expr(_me.id, _me.created_at, bindparam("mark_floor")), _me.data_saver)
        .select_from(UserSession).join(_me, _me.id == UserSession.user_id)
        .where(UserSession.id == bindparam("sid"),
               UserSession.secret_hash == bindparam("secret_hash"),
               UserSession.live_since(bindparam("seen_after")))
    )


class _Compiled:
    """The statement compiled for one engine's dialect: SQL text, and how to bind its values."""

    GIVEN = ("sid", "secret_hash", "seen_after", "mark_floor")

    def __init__(self, dialect):
        compiled = user_and_version_statement().compile(dialect=dialect)
        self.sql = compiled.string
        self.positions = compiled.positiontup if compiled.positional else None
        # The constants (roles, 0) processed once here; the request's values in params().
        self.values = compiled.construct_params(dict.fromkeys(self.GIVEN))
        self.processors = {}
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is None:
                continue
            if name in self.GIVEN:
                self.processors[name] = processor
            else:
                self.values[name] = processor(self.values[name])

    def params(self, sid, secret_hash, seen_after, mark_floor):
        values = dict(self.values, sid=sid, secret_hash=secret_hash, seen_after=seen_after,
                      mark_floor=mark_floor)
        for name, processor in self.processors.items():
            values[name] = processor(values[name])
        return values if self.positions is None else [values[n] for n in self.positions]


_compiled: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # engine -> _Compiled


def user_and_version(engine, connection, login_id: str, idle_limit):
    """(user id, active, locale, time zone, role, name, organization, organizations seen,
    sum of their ids, sum of their versions, their latest read mark) of the user of a live sign-in (a Flask-Login
    id), from a DB-API connection of the engine; None when the sign-in is unknown or ended.
    Everything of the user that a page shows or depends on is in it."""
    parsed = parse_login_id(login_id)
    if parsed is None:
        return None
    compiled = _compiled.get(engine)
    if compiled is None:
        compiled = _compiled[engine] = _Compiled(engine.dialect)
    cursor = connection.cursor()
    try:
        now = utcnow()
        cursor.execute(compiled.sql, compiled.params(*parsed, now - idle_limit, mark_floor_low(now)))
        return cursor.fetchone()
    finally:
        cursor.close()


def page_key(environ, cookies, session_data, user_id: int, row) -> tuple | None:
    """The key of a page for this request, from the raw request, the session and the user's
    row (user_and_version); None when the page must not be cached."""
    if "_flashes" in session_data or "csrf_token" not in session_data or row is None:
        return None
    _user_id, _active, locale, tz, role, name, org, orgs, org_ids, version, marked, saver = row
    if orgs is None:  # a role that sees no organization
        return None
    return (environ.get("PATH_INFO"), environ.get("QUERY_STRING", ""), user_id, locale, tz,
            role, name, org,
            cookies.get(LANG_COOKIE, ""), environ.get("HTTP_ACCEPT_LANGUAGE", ""),
            session_data["csrf_token"], int(orgs), int(org_ids),
            int(version), str(marked), bool(saver), environ.get("HTTP_SAVE_DATA", ""))


def one_time_id() -> str:
    """A client id for a form of the page being rendered: fresh in every answer, also of a
    kept page (a placeholder here, a new UUID for each of its places in each answer)."""
    if request.method == "GET" and KEY_ENVIRON in request.environ:
        request.environ[FILL_LATER] = True
        return PLACEHOLDER
    return str(uuid.uuid4())


def not_kept() -> None:
    """This answer is not to be kept (what its key says changes as it is made)."""
    request.environ.pop(KEY_ENVIRON, None)


def _filled(body: bytes, placeholder: bytes, accept_encoding: str) -> tuple[str, bytes]:
    """(encoding, bytes) of a kept body with a fresh UUID in each of its placeholders."""
    parts = body.split(placeholder)
    ids = [str(uuid.uuid4()).encode() for _ in range(len(parts) - 1)]
    filled = b"".join(chain.from_iterable(zip(parts[:-1], ids, strict=True))) + parts[-1]
    return encode_for(accept_encoding, filled)


def _fill_headers(headers, encoding: str) -> list:
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "etag")]
    return kept if encoding == "identity" else [*kept, ("Content-Encoding", encoding)]


def cached_page(view):
    """Keep the view's answer for PageFront while the data it shows has not changed."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_app.config.get("PAGE_CACHE", True) and current_user.is_authenticated:
            # The key PageFront read before Flask ran, when it is this user's: the versions in
            # it are no newer than the data the view reads now, so the page is never newer
            # under its key than it shows (a version read later could be).
            key = request.environ.get(READ_KEY_ENVIRON)
            if key is None or key[2] != current_user.id:
                conn = db.session.connection()
                row = user_and_version(conn.engine, conn.connection.driver_connection,
                                       current_user.get_id(),
                                       current_app.config["REMEMBER_COOKIE_DURATION"])
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
                seconds = time.perf_counter() - started
                timing = ("Server-Timing", f"app;dur={seconds * 1000:.1f}")
                rid = kept_answer_seen(self.app, environ, status, seconds, len(body))
                start_response(status, [*headers, ("Content-Length", str(len(body))), timing,
                                        ("X-Request-ID", rid)])
                return [body]
        return self._keep(environ, start_response)

    def _cacheable(self, environ) -> bool:
        try:
            rule, _args = self.app.url_map.bind_to_environ(environ).match(return_rule=True)
        except HTTPException:
            return False
        endpoint = rule.endpoint
        environ["secgo.route"] = rule.rule
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
            row = user_and_version(self.engine, driver, login_id,
                                   self.app.config["REMEMBER_COOKIE_DURATION"])
        finally:
            if single:
                driver.autocommit = False
            raw.close()
        if row is None or not row[1]:  # as secgo.authn.load_user
            return None
        key = page_key(environ, cookies, data, row[0], row)
        if key is None:
            return None
        entry = self.app.extensions[STORE_EXTENSION].get((key, environ.get("HTTP_ACCEPT_ENCODING", "")))
        if entry is None or entry[5] <= time.time():
            environ[READ_KEY_ENVIRON] = key  # the view keeps its page under it
            return None
        status, headers, body, etag, placeholder, _expires = entry
        if placeholder:
            encoding, body = _filled(body, placeholder, environ.get("HTTP_ACCEPT_ENCODING", ""))
            return status, _fill_headers(headers, encoding), body
        match = environ.get("HTTP_IF_NONE_MATCH")
        if match and etag and etag in [tag.strip() for tag in match.split(",")]:
            kept = [h for h in headers if h[0].lower() not in ("content-type", "content-encoding")]
            return "304 NOT MODIFIED", kept, b""
        return status, headers, body

    def _keep(self, environ, start_response):
        seen = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            if environ.get(FILL_LATER):  # the headers go out with the filled body, below
                return lambda data: None
            return start_response(status, headers, exc_info)

        chunks = self.next(environ, capture)
        key = environ.get(KEY_ENVIRON)
        fill = bool(environ.get(FILL_LATER))
        if not fill and (key is None or environ.get("REQUEST_METHOD") != "GET"
                         or not seen.get("status", "").startswith("200")):
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = [(k, v) for k, v in seen["headers"] if k.lower() not in UNCACHED_HEADERS]
        etag = None if fill else next((v for k, v in headers if k.lower() == "etag"), None)
        accept_encoding = environ.get("HTTP_ACCEPT_ENCODING", "")
        if key is not None and seen["status"].startswith("200"):
            self.app.extensions[STORE_EXTENSION].put(
                (key, accept_encoding),
                (seen["status"], headers, body, etag, _PLACEHOLDER if fill else b"", time.time() + MAX_AGE_SECONDS))
        if not fill:
            return [body]
        encoding, body = _filled(body, _PLACEHOLDER, accept_encoding)
        timing = [(k, v) for k, v in seen["headers"] if k.lower() in ("set-cookie", "server-timing",
                                                                      "x-request-id")]
        start_response(seen["status"], [*_fill_headers(headers, encoding), *timing,
                                        ("Content-Length", str(len(body)))])
        return [body]


# --- the data version goes up with every change ---------------------------------------------

def _org_ids(obj) -> set:
    """An order's or issue's two organizations (and, were they ever changed, the old ones)."""
    ids = set()
    for name in ("producer_org_id", "customer_org_id"):
        ids.add(getattr(obj, name))
        ids.update(db.inspect(obj).attrs[name].history.deleted or ())
    return ids


def _renamed(user) -> bool:
    """The name shown for the person changed (edited, or erased: "A former member")."""
    state = db.inspect(user)
    return any(state.attrs[name].history.has_changes() for name in ("_display_name", "erased_at"))


def _orgs_of(user, conn) -> set:
    if user.organization_id is not None:
        return {user.organization_id}
    from .models import cluster_coordinators_table as cc

    return set(conn.scalars(select(Organization.id).join(cc, cc.c.cluster_id == Organization.cluster_id)
                            .where(cc.c.user_id == user.id)))


# Rows that no page shows: the notification outbox, deliveries, read marks (per person, in the
# key already), the account history.
UNSEEN = (Notification, PushDelivery, ReadMark, AuditEvent)


def _this_transaction(session) -> tuple[set, set, set]:
    """(orders, issues, organizations) already bumped in the session's current transaction."""
    transaction = session.get_transaction()
    kept = session.info.get("secgo_bumped")
    if kept is None or kept[0] is not transaction:
        kept = (transaction, set(), set(), set())
        session.info["secgo_bumped"] = kept
    return kept[1], kept[2], kept[3]


def _bump_versions(session: Session, _flush_context) -> None:
    """In the flush's transaction: +1 to the organizations a change belongs to — an order's
    or issue's two organizations, those of the order or issue an update, confirmation, link,
    comment or issue event is on, and an edited organization with its trading partners."""
    orgs, order_ids, issue_ids, edited = set(), set(), set(), set()
    done_orders, done_issues, bumped = _this_transaction(session)
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, UNSEEN):
            continue
        if isinstance(obj, (Order, Issue)):
            orgs.update(_org_ids(obj))
        elif isinstance(obj, Organization):
            # A new one has no orders yet; a deleted one is gone from everyone's count.
            if obj in session.dirty and session.is_modified(obj, include_collections=False):
                edited.add(obj.id)
        elif isinstance(obj, Cluster):
            # Its name is on the lists and filters of its organizations and their partners.
            if obj in session.dirty and session.is_modified(obj, include_collections=False):
                edited.update(session.connection().scalars(
                    select(Organization.id).where(Organization.cluster_id == obj.id)))
        elif isinstance(obj, User) and obj in session.dirty and _renamed(obj):
            # A person's name is on the pages of their organization's orders and partners
            # (a coordinator's: of their clusters' producers).
            edited.update(_orgs_of(obj, conn=session.connection()))
        elif isinstance(obj, Attachment):
            # A preview's full photo came, or someone asked for it: the pages it is on.
            if obj in session.dirty and session.is_modified(obj, include_collections=False):
                from .attachments.services import _linked_orders

                order_ids.update(session.connection().scalars(_linked_orders(obj.id)))
        elif getattr(obj, "order_id", None) is not None:  # updates, confirmations, links
            order_ids.add(obj.order_id)
        elif getattr(obj, "issue_id", None) is not None:  # comments, issue events
            issue_ids.add(obj.issue_id)
    # Once per transaction is enough: nobody sees the versions before it commits.
    order_ids -= done_orders
    issue_ids -= done_issues
    done_orders |= order_ids
    done_issues |= issue_ids
    lookups = []
    for model, ids in ((Order, order_ids), (Issue, issue_ids)):
        if ids:
            lookups += [select(model.producer_org_id).where(model.id.in_(ids)),
                        select(model.customer_org_id).where(model.id.in_(ids))]
    if edited:  # its name is on its partners' pages (and in what their search matches)
        orgs |= edited
        lookups += [select(Order.customer_org_id).where(Order.producer_org_id.in_(edited)),
                    select(Order.producer_org_id).where(Order.customer_org_id.in_(edited))]
    conn = session.connection()
    if lookups:
        orgs.update(conn.scalars(union(*lookups) if len(lookups) > 1 else lookups[0]))
    orgs.discard(None)
    orgs -= bumped
    bumped |= orgs
    if orgs:
        table = Organization.__table__
        conn.execute(update(table).where(table.c.id.in_(sorted(orgs)))
                     .values(data_version=table.c.data_version + 1))


def store_uri(config) -> str | None:
    """The Redis that kept pages are shared through (None: each process keeps its own):
    PAGE_CACHE_STORE_URI, or when that is unset the rate limits' Redis."""
    uri = config.get("PAGE_CACHE_STORE_URI") or config.get("RATELIMIT_STORAGE_URI") or ""
    return uri if uri.split(":", 1)[0].lower() in ("redis", "rediss", "unix") else None


def make_store(config) -> PageStore:
    """This app's page store; the Redis keys under PAGE_CACHE_KEY_PREFIX (or the rate limits'
    prefix) and the code's digest."""
    uri = store_uri(config)
    prefix = config.get("PAGE_CACHE_KEY_PREFIX") or config.get("RATELIMIT_KEY_PREFIX") or "secgo"
    if callable(prefix):
        prefix = prefix()
    secret = config.get("SECRET_KEY") or ""
    return PageStore(uri, prefix, secret.encode() if isinstance(secret, str) else secret,
                     code_digest() if uri else "")


def init_app(app) -> None:
    """Put PageFront before the app; bump data versions on the app's session's flushes.

    The hook goes on `db.session` (Flask-SQLAlchemy's scoped session: SQLAlchemy attaches it
    to the Session subclass of that session factory), not on every SQLAlchemy Session in the
    process; every app shares `db`, so it is added once, however many apps are made.
    """
    app.config.setdefault("PAGE_CACHE", True)
    app.extensions[STORE_EXTENSION] = make_store(app.config)
    if not event.contains(db.session, "after_flush", _bump_versions):
        event.listen(db.session, "after_flush", _bump_versions)
    app.wsgi_app = PageFront(app)
