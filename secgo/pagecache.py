"""A small per-process cache of rendered pages that is never stale.

A cached page is kept per user, language, time zone, address (path and query), session
(its CSRF secret) and minute, and stamped with the *data version* of what the user may
see: every organization carries a counter (`organizations.data_version`) that goes up in
the same transaction as any change to its orders, their updates, confirmations and
issues (one `after_flush` hook below: every write of the app goes through the ORM). So a
page is served from the cache only while nothing it shows has changed in the database,
whichever process made the change; and relative times ("5 minutes ago") are at most a
minute old. A hit costs the user's session, one small query and no rendering.

Pages with a one-time value in them (a client UUID for the outbox, a flash message) are
never cached: only views decorated with `@cached_page` are, and a request with a flash
message waiting skips the cache.
"""
import threading
import time
from collections import OrderedDict
from functools import wraps
from itertools import chain

from flask import current_app, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from .extensions import db
from .models import Issue, IssueComment, IssueEvent, Order, Organization

MAX_BYTES = 8 * 1024 * 1024  # per process


class _Store:
    """A size-bounded LRU of rendered pages, safe with threaded workers."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self.items: OrderedDict = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            body = self.items.get(key)
            if body is not None:
                self.items.move_to_end(key)
            return body

    def put(self, key, body: str) -> None:
        cost = len(body) * 4  # upper bound of a str's memory per character
        if cost > self.max_bytes // 8:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= len(old) * 4
            self.items[key] = body
            self.size += cost
            while self.size > self.max_bytes:
                _key, dropped = self.items.popitem(last=False)
                self.size -= len(dropped) * 4

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


store = _Store()


_VERSION_SQL = {
    # One small query on every cached view, so it is sent straight to the driver.
    "own": "SELECT count(*), coalesce(sum(data_version), 0) FROM organizations WHERE id = {p}",
    "clusters": "SELECT count(*), coalesce(sum(data_version), 0) FROM organizations WHERE "
                "cluster_id IN (SELECT cluster_id FROM cluster_coordinators WHERE user_id = {p})",
    "all": "SELECT count(*), coalesce(sum(data_version), 0) FROM organizations",
}


def data_version(user) -> tuple | None:
    """(organizations, sum of their versions) for the organizations whose data the user sees;
    any change to what the user may see changes it."""
    if user.role in ("producer", "customer"):
        kind, params = "own", (user.organization_id,)
    elif user.role == "coordinator":
        kind, params = "clusters", (user.id,)
    elif user.role == "admin":
        kind, params = "all", ()
    else:
        return None
    conn = db.session.connection()
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(_VERSION_SQL[kind].format(p=marker), params)
        return tuple(cursor.fetchone())
    finally:
        cursor.close()


def _key():
    """The cache key of this request, or None when it must not be cached."""
    if not current_app.config.get("PAGE_CACHE", True) or request.method != "GET":
        return None
    if not current_user.is_authenticated or "_flashes" in session or "csrf_token" not in session:
        return None
    version = data_version(current_user)
    if version is None:
        return None
    return (request.endpoint, request.full_path, current_user.id, str(get_locale()),
            str(get_timezone()), session["csrf_token"], int(time.time() // 60), version)


def cached_page(view):
    """Serve the view's rendered page from the cache while its data has not changed."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        body = store.get(key)
        if body is None:
            body = view(*args, **kwargs)
            if not isinstance(body, str):  # a redirect or an error: never cached
                return body
            store.put(key, body)
        return body

    return wrapper


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
