"""Pages seen again are answered before Flask runs, and are never stale.

A page whose view is decorated with `@cached_page(kind)` (the orders and issues lists, the
order page) is kept, as the final answer sent (status, headers, compressed body), per user,
address (path and query), the inputs of language and time zone (the user's settings, the language cookie,
Accept-Language), the session's CSRF secret, Accept-Encoding and the *data
version* of what the user may see: the organizations `authz.visible_orgs_clause` gives the
user (every order and issue they may see has one of its two organizations there), counted,
and the sums of their ids and of their `organizations.data_version`, and the user's latest
read mark that can matter (secgo.readmarks: the unread marks are per user, and opening an
order with news moves it; a mark at or before the person's floor is left out). That counter goes up in
the same transaction as any change to the organization's orders, their updates,
confirmations, links and issues, and to the organization itself or its cluster (then its
trading partners' go up too: its name is on their pages): an `after_flush` hook on the app's
session (`db.session`; every write of the app goes through it), touching only the
organizations the change belongs to (read from the rows the session holds when it has them;
one UPDATE for both of an organization's versions), and a `before_flush` one that puts an
order's own version up in the very UPDATE of its row when the flush changes it (its status,
its latest activity). So a page is answered from memory only while nothing it shows has
changed in the database, whichever process made the change. What the clock alone changes has no
version: a kept page is served until the first moment something on it would read otherwise
(secgo.clock: a relative time's words, as each one says when it is written, on a page that
writes them as it is made; the viewer's midnight, for overdue and this year), and never
longer than `MAX_AGE_SECONDS`.

The order page (kind "order", the order's `reference` in its address) shows one order, not
all the person's: its key holds, instead of the organizations' figures, that order's own
`orders.data_version` — read only when the person may see the order (authz's rule on the
order itself: NULL, so not kept, for anyone else; so who may see it is decided again at every
answer, in the same query). The two numbers of its tab bar (their orders and issues with news,
readmarks.tab_count_exprs) and the person's read mark of the order are read in the same query
and put in as each answer is served (`tab_later`, `seen_later`: the page is kept with places
for the numbers, and for its "new since your last visit" divider before every entry, of which
the mark picks one, like one-time ids), and so are its relative times ("5 minutes ago":
secgo.clock.later), written for the moment of each answer in the page's language, so a
timeline of recent entries, whose words change every few seconds, is kept all the same. The
same hook puts the order's version up with any change to the order, its updates, confirmations,
delivery, links, documents, photos, issues, their comments and events, and every order of an
edited organization (its name, its cluster's and its people's are on the page) or over a
crossing whose papers checklist changed. So a write on another order leaves the page kept,
with its tab numbers moved.

The issues list (kind "issues") is keyed the same way as the orders list, but by
`organizations.issues_version` instead of `data_version` — +1 with a change to an issue, its
comments or events, to the organizations or crossing of an order (what the list shows of it)
and with an edited organization and its partners — and the person's latest read mark of an
issue; its tab numbers are put in as it is served, as the order page's: a note on an order
leaves everyone's issues list kept, and its issues' ages are written as each answer is
served. Such pages (with places to fill) have no ETag and are compressed as they are served
(once for the same bytes: an answer without one-time ids reads the same for minutes on end).

Kept pages live in secgo/pagestore.py: in the process that served them and in Redis, shared
by every worker and instance (the key is the same wherever it is computed).

`PageFront` wraps the WSGI app: for a GET of such a page it reads the signed session cookie,
and in one query checks the sign-in (`UserSession.live_since`, as secgo.authn.load_user) and
reads the user and the versions its kind needs; on a hit it answers (or answers 304 to a
matching If-None-Match) without running Flask. That query is built with SQLAlchemy Core from the
`authz` rule and compiled once per engine, then run on the driver's connection (a hit costs
a fraction of a millisecond); on PostgreSQL on connections of its own (`front_engine`), where
it is prepared, and its plan made, once per connection. Anything else, and every miss, goes
to Flask, and the view's answer is kept on its way out. A session with a flash message
waiting is never served.

A page whose forms carry one-time client ids (the order page: a form posted without
JavaScript is stored once by its id, so two answers must never carry the same one) asks for
them with `one_time_id()`: while the page is being kept, that gives a placeholder, the body is
kept uncompressed, and every answer, the first one too, gets a fresh UUID for each placeholder
and is compressed then (about a millisecond, against several for a render); such an answer
has no ETag, so a browser never revalidates an old copy with its used ids. Opening the order
page moves the person's read mark when there is news; that answer is kept all the same (its
divider is placed by the mark before the visit; the next answers' by the mark then, past
everything the version covers), so a page answered from memory is always one whose visit
would have moved nothing — unless the mark could not be saved: then the answer is not kept,
and the next visit moves it. What the order page shows and no version covers is
the route's expected arrival (a rollup refreshed in the background, moved by deliveries on
other orders): its figures are in the key itself (coordinator.promptness.arrival_source_expr),
so a page is made again when they move, and kept while they stay.
"""
import os
import re
import secrets
import threading
import time
from time import thread_time  # (by name: tests put a clock of their own in place of pagecache.time)
import uuid
import weakref
from datetime import datetime, timedelta, timezone
from datetime import time as dt_time
from functools import lru_cache, wraps
from itertools import chain
from types import SimpleNamespace

from flask import current_app, g, request, session
from flask_babel import get_locale, get_timezone, to_user_timezone
from markupsafe import Markup, escape
from flask_login import current_user
from sqlalchemy import (Integer, and_, bindparam, case, create_engine, event, func, literal_column,
                        or_, select, union, update)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie

from . import clock
from .assets import FILL_LATER, encode_for
from .authn import SIGNED_IN_READ
from .authz import visible_orders_clause, visible_orgs_clause
from .extensions import db
from .i18n import LANG_COOKIE
from .i18n.formatting import relative_words
from .models import (Attachment, AuditEvent, Cluster, CrossingRequirement, Issue, Notification, Order,
                     Organization, PushDelivery, ReadMark, User, UserSession, utcnow)
from .models.base import UTCDateTime
from .models.order import normalize_reference
from .models.user import ROLES, parse_login_id
from .ops.observe import CPU_STARTED, kept_answer_seen
from .pagestore import PageStore, code_digest
from .readmarks import floor_expr, mark_floor_low, mark_version_expr, tab_count_exprs
from .readmarks import tab_numbers as readmarks_tab_numbers
from .tabs import badge

KEY_ENVIRON = "secgo.page_key"
READ_KEY_ENVIRON = "secgo.page_key_read"  # (key, tab numbers, order read mark) PageFront read for a page it lacked
# A kept page is served until what it shows would read otherwise by the clock (secgo.clock:
# its relative times, the viewer's midnight), and never longer than this: the bound of what
# Redis holds (pages made in that long) and of any clock-made change the rule might miss.
MAX_AGE_SECONDS = 300
LIFE_ENVIRON = "secgo.page_life"  # seconds the page the view made may be served
UNCACHED_HEADERS = {"set-cookie", "server-timing", "content-length", "x-request-id"}


# Kept answers (secgo/pagestore.py): (status, headers, body, etag, placeholder, expires, tabs);
# placeholder: the body is uncompressed and carries it where one-time ids go (see one_time_id),
# or b""; expires: the time (time.time()) after which it is not served; tabs: "token language"
# when the body has places for the tab numbers (see tab_later), or "".
STORE_EXTENSION = "secgo_page_store"

# Never in a page otherwise: unguessable, made anew in every process (a page kept by another
# process carries that process's placeholder with it).
PLACEHOLDER = f"one-time-id-{secrets.token_hex(12)}"
_PLACEHOLDER = PLACEHOLDER.encode()
# The same for a tab's number ("<token>orders-"), and the kinds of page whose numbers are put
# in as they are served; TABS_LATER: the numbers read with the key (the first answer's),
# TABS_LOCALE: the language of the page that has places for them (and for relative times).
TAB_TOKEN = f"tab-number-{secrets.token_hex(12)}-"
FILLED_NUMBERS = ("order", "issues")
TABS_LATER = "secgo.tabs_later"
TABS_LOCALE = "secgo.tabs_locale"
# The same for the order page's "new since your last visit" marks (seen_later), made from the
# placeholder (a kept page carries its process's with it: _seen_token); SEEN_ENVIRON: the read
# mark the first answer shows them by; KIND_ENVIRON: the kind of the page being kept.
SEEN_ENVIRON = "secgo.seen_mark"
KIND_ENVIRON = "secgo.page_kind"


# The signed-in user's row in the statement below. authz's rule is applied to "a user of this
# role" whose id and organization are this row's columns, named in SQL (literal_column), so
# that subqueries at any depth refer to it (SQLAlchemy correlates only one level by itself);
# the alias's name is one no other table in the statement has.
_ME = "page_cache_user"
_me = aliased(User, name=_ME)


_MY_CREATION = literal_column(f"{_ME}.created_at", UTCDateTime)


def _by_role(make):
    """make(a user of each role whose id, organization and creation are the row's columns): one
    subquery per role, of which the database evaluates only the row's user's (NULL for no
    known role)."""
    whens = []
    for role in ROLES:
        who = SimpleNamespace(is_authenticated=True, role=role,
                              id=literal_column(f"{_ME}.id", Integer),
                              organization_id=literal_column(f"{_ME}.organization_id", Integer),
                              created_at=_MY_CREATION)
        whens.append((_me.role == role, make(who)))
    return case(*whens)


def _seen_by_role(aggregate):
    """The aggregate over the organizations the row's user may see."""
    return _by_role(lambda who: select(aggregate).select_from(Organization)
                    .where(visible_orgs_clause(who)).scalar_subquery())


def _order_seen(column):
    """The column of the order in the address (bind "reference"), if the row's user may see it."""
    return _by_role(lambda who: select(column).where(
        Order.reference == bindparam("reference"), visible_orders_clause(who)).scalar_subquery())


def _tab_count(index):
    low = floor_expr(_MY_CREATION, bindparam("mark_floor", type_=UTCDateTime))
    return _by_role(lambda who: tab_count_exprs(who, low)[index])


# Every column of the user, and when the sign-in was last seen, after a key's own columns: what
# secgo.authn.load_user would read again in the same request (SignedInRead).
_USER_ATTRS = tuple(attr.key for attr in sa_inspect(User).column_attrs)
_TAIL = len(_USER_ATTRS) + 1


def _signed_in(*columns):
    """The user of a live sign-in, with these columns (binds: sid, secret_hash, seen_after),
    then all of the user's and the sign-in's last_seen_at (the tail, _TAIL columns)."""
    return (
        select(_me.id, and_(_me.active, _me.password_hash.is_not(None)),  # User.is_active
               _me.locale, _me.timezone, _me.role, _me.display_name, _me.organization_id,
               *columns, _me.data_saver,
               *(getattr(_me, key) for key in _USER_ATTRS), UserSession.last_seen_at)
        .select_from(UserSession).join(_me, _me.id == UserSession.user_id)
        .where(UserSession.id == bindparam("sid"),
               UserSession.secret_hash == bindparam("secret_hash"),
               UserSession.live_since(bindparam("seen_after")))
    )


def user_and_version_statement():
    """The user of a live sign-in and the data version of what they may see, in one SELECT
    (binds: sid, secret_hash, seen_after, mark_floor): the lists' key."""
    return _signed_in(_seen_by_role(func.count()),
                      _seen_by_role(func.coalesce(func.sum(Organization.id), 0)),
                      _seen_by_role(func.coalesce(func.sum(Organization.data_version), 0)),
                      mark_version_expr(_me.id, _me.created_at, bindparam("mark_floor")))


def user_and_issues_statement():
    """The user of a live sign-in, the version of the issues list of the organizations they
    may see, their unread counts (the tab bar's numbers) and their latest read mark of an
    issue, in one SELECT (binds: sid, secret_hash, seen_after, mark_floor): the issues list's
    key."""
    return _signed_in(_seen_by_role(func.count()),
                      _seen_by_role(func.coalesce(func.sum(Organization.id), 0)),
                      _seen_by_role(func.coalesce(func.sum(Organization.issues_version), 0)),
                      _tab_count(0), _tab_count(1),
                      mark_version_expr(_me.id, _me.created_at, bindparam("mark_floor"), "issue"))


def user_and_order_statement():
    """The user of a live sign-in, the data version of one order if they may see it (NULL
    otherwise), its route's figures of expected arrival while in transit, their unread counts
    (the tab bar's numbers) and their read mark of the order, in one SELECT (binds: sid,
    secret_hash, seen_after, mark_floor, reference): the order page's key."""
    mark = select(ReadMark.seen_at).where(
        ReadMark.user_id == _me.id, ReadMark.kind == "order",
        ReadMark.target_id == select(Order.id).where(Order.reference == bindparam("reference"))
        .scalar_subquery()).scalar_subquery()
    from .coordinator.promptness import arrival_source_expr  # (the coordinator imports the pages)

    return _signed_in(_order_seen(Order.data_version), arrival_source_expr(bindparam("reference")),
                      _tab_count(0), _tab_count(1), mark)


def _pipelines() -> bool:
    """Whether psycopg can send several statements in one round trip (libpq 14 and later)."""
    try:
        from psycopg import Pipeline
    except ImportError:
        return False
    return Pipeline.is_supported()


class KeyRow(tuple):
    """A key's row of user_and_version (its columns before the tail), and `signed_in`: the
    user's whole row, read with it, as secgo.authn.load_user takes it (SignedInRead)."""

    signed_in = None
    mark_processor = None

    def read_mark(self):
        """The person's read mark in the row (its last column but the data saver), as a datetime."""
        mark = self[-2]
        return mark if mark is None or self.mark_processor is None else self.mark_processor(mark)


class SignedInRead:
    """The signed-in user's row read with a page's key, turned into the values of the ORM's
    attributes (as a query would give them) only when Flask asks for the user."""

    def __init__(self, raw, processors):
        self.raw, self.processors = raw, processors

    def values(self) -> tuple[dict, object]:
        """({attribute: value} of the User, the sign-in's last_seen_at)."""
        done = [value if make is None else make(value)
                for value, make in zip(self.raw, self.processors, strict=True)]
        return dict(zip(_USER_ATTRS, done[:-1], strict=True)), done[-1]


class _Compiled:
    """A statement compiled for one engine's dialect: SQL text, and how to bind its values."""

    def __init__(self, statement, given, dialect):
        compiled = statement.compile(dialect=dialect)
        # The tail's values as the ORM would have them (SQLite's text times made datetimes, ...).
        self.tail = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                     for column in list(statement.selected_columns)[-_TAIL:]]
        self.mark = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
        self.sql = compiled.string
        self.generic_plan = dialect.name == "postgresql" and _pipelines()
        self.positions = compiled.positiontup if compiled.positional else None
        # The constants (roles, 0) processed once here; the request's values in params().
        self.values = compiled.construct_params(dict.fromkeys(given))
        self.processors = {}
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is None:
                continue
            if name in given:
                self.processors[name] = processor
            else:
                self.values[name] = processor(self.values[name])

    def params(self, **given):
        values = dict(self.values, **given)
        for name, processor in self.processors.items():
            values[name] = processor(values[name])
        return values if self.positions is None else [values[n] for n in self.positions]


_compiled: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # engine -> {kind: _Compiled}
_GIVEN = ("sid", "secret_hash", "seen_after", "mark_floor")
# The kinds of kept page (cached_page's argument): their key's statement and its binds.
_STATEMENTS = {"orders": (user_and_version_statement, _GIVEN),
               "issues": (user_and_issues_statement, _GIVEN),
               "order": (user_and_order_statement, (*_GIVEN, "reference"))}
KINDS = tuple(_STATEMENTS)


def user_and_version(engine, connection, login_id: str, idle_limit, kind="orders", reference=None,
                     prepared=False):
    """The user of a live sign-in (a Flask-Login id) and what the key of their page of this
    kind needs, from a DB-API connection of the engine; None when the sign-in is unknown or
    ended: a KeyRow (user id, active, locale, time zone, role, name, organization, *seen, their
    read mark, data saver), with the user's whole row read too (`signed_in`), where seen is, for the orders list, (organizations seen, sum of their
    ids, sum of their versions) and the mark their latest; for the issues list, (organizations
    seen, sum of their ids, sum of their issues lists' versions, their orders and issues with
    news) and the mark their latest of an issue; for the page of the order with this
    reference, (the order's data version or None when they may not see it, its route's
    figures of expected arrival or None, their orders and issues with news) and the mark
    theirs of the order. Everything of the user that a page
    shows or depends on is in it. `prepared`: the connection is one of front_engine's
    (the statement is prepared once on it, its plan made once)."""
    parsed = parse_login_id(login_id)
    if parsed is None:
        return None
    now = utcnow()
    sid, secret_hash = parsed
    values = {"sid": sid, "secret_hash": secret_hash, "seen_after": now - idle_limit,
              "mark_floor": mark_floor_low(now)}
    if kind == "order":
        values["reference"] = normalize_reference(reference)
        if values["reference"] is None:
            return None
    compiled = _compiled.setdefault(engine, {}).get((kind, prepared))
    if compiled is None:
        make, given = _STATEMENTS[kind]
        dialect = _numbered(engine.dialect) if prepared else engine.dialect
        compiled = _compiled[engine][kind, prepared] = _Compiled(make(), given, dialect)
    if prepared:  # with PostgreSQL's own placeholders: psycopg sends the text as it is
        from psycopg import RawCursor

        cursor = RawCursor(connection)
    else:
        cursor = connection.cursor()
    try:
        if prepared:
            cursor.execute(compiled.sql, compiled.params(**values), prepare=True)
        elif compiled.generic_plan:
            # On PostgreSQL, one round trip: its plan made once per connection. By default the
            # server plans this statement (every role's rules in one) anew at each run, which
            # took three times as long as running it (set for it alone, then back as it was).
            with connection.pipeline():
                connection.execute("SET plan_cache_mode = force_generic_plan")
                cursor.execute(compiled.sql, compiled.params(**values))
                connection.execute("RESET plan_cache_mode")
        else:
            cursor.execute(compiled.sql, compiled.params(**values))
        raw = cursor.fetchone()
    finally:
        cursor.close()
    if raw is None:
        return None
    row = KeyRow(raw[:-_TAIL])
    row.signed_in = SignedInRead(raw[-_TAIL:], compiled.tail)
    row.mark_processor = compiled.mark
    return row


def _numbered(dialect):
    """This PostgreSQL dialect writing PostgreSQL's own placeholders ($1, $2, ...). psycopg
    reads a statement's text for its own (%s) at every run, and keeps what it found only for
    statements under 4 KB; the key statements are longer (every role's rules), and that
    reading was a tenth of a kept page's answer. Its RawCursor sends $n statements as they are."""
    numbered = type(dialect)(paramstyle="numeric_dollar")
    numbered.dbapi = dialect.dbapi
    return numbered


# app engine -> (process, engine of its key statements' connections)
_front_engines: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_front_lock = threading.Lock()


def front_engine(engine):
    """On PostgreSQL, the engine whose connections PageFront reads the key on: connections
    of their own, in autocommit, each with generic plans (`plan_cache_mode`). There the key
    statement is prepared once and its plan made once per connection; on the app's
    connections it would be parsed and planned at every request (three times as long as
    running it), since psycopg forgets a connection's prepared statements at every ROLLBACK,
    and one ends each request's transaction. It lives as long as the app's engine, in this
    process. None on other databases (SQLite plans in-process, cheaply: the app's connection
    serves)."""
    if engine.dialect.name != "postgresql":
        return None
    made = _front_engines.get(engine)
    if made is not None and made[0] == os.getpid():
        return made[1]
    with _front_lock:
        made = _front_engines.get(engine)
        if made is not None and made[0] == os.getpid():
            return made[1]
        url = engine.url
        options = " ".join(filter(None, (url.query.get("options"), "-c plan_cache_mode=force_generic_plan")))
        # Not pinged at each use: a connection the database dropped is replaced when it fails (_answer).
        front = create_engine(url.update_query_dict({"options": options}), isolation_level="AUTOCOMMIT",
                              pool_size=2, max_overflow=8, pool_reset_on_return=None)
        _front_engines[engine] = (os.getpid(), front)
        weakref.finalize(engine, front.dispose)  # its connections closed when the app's engine goes
        return front


def page_key(environ, cookies, session_data, user_id: int, row, kind: str) -> tuple | None:
    """The key of a page of this kind for this request, from the raw request, the session and
    the user's row (user_and_version); None when the page must not be cached. An order page's
    leaves out the tab bar's numbers: they are filled in as it is served (tab_later)."""
    if "_flashes" in session_data or "csrf_token" not in session_data or row is None:
        return None
    _user_id, _active, locale, tz, role, name, org, *seen, marked, saver = row
    if seen[0] is None:  # a role that sees no organization, or an order not theirs
        return None
    if kind in FILLED_NUMBERS:
        seen = seen[:-2]
    if kind == "order":  # its divider is put in as it is served (seen_later)
        marked = None
    return (environ.get("PATH_INFO"), environ.get("QUERY_STRING", ""), user_id, locale, tz,
            role, name, org,
            cookies.get(LANG_COOKIE, ""), environ.get("HTTP_ACCEPT_LANGUAGE", ""),
            session_data["csrf_token"], *(n if n is None or isinstance(n, str) else int(n) for n in seen),
            str(marked), bool(saver),
            environ.get("HTTP_SAVE_DATA", ""))


def one_time_id() -> str:
    """A client id for a form of the page being rendered: fresh in every answer, also of a
    kept page (a placeholder here, a new UUID for each of its places in each answer)."""
    if request.method == "GET" and KEY_ENVIRON in request.environ:
        request.environ[FILL_LATER] = True
        return PLACEHOLDER
    return str(uuid.uuid4())


def not_kept() -> None:
    """This answer, made already, is served but not kept (say, a read mark its visit moves
    could not be saved: a later visit must move it)."""
    request.environ.pop(KEY_ENVIRON, None)


class _SeenLater:
    """Where a kept order page's "new since your last visit" marks go (its timeline): each
    kept with the time it stands for, and shown or left out as each answer is served, by the
    person's read mark of the order then (_seen_filled)."""

    @staticmethod
    def divider(at, html) -> Markup:
        """The divider before an entry made `at` (None: after the last entry)."""
        return Markup(f"{SEEN_TOKEN}d{'e' if at is None else _instant(at)}[{html}{SEEN_TOKEN}]")

    @staticmethod
    def new(at, html) -> Markup:
        """What an item whose latest activity was `at` shows when that is after the mark."""
        return Markup(f"{SEEN_TOKEN}n{_instant(at)}[{html}{SEEN_TOKEN}]")


def seen_later(mark):
    """For a kept order page (whose key leaves out the person's read mark of the order, so that
    the answer to a visit that moves it is kept too): the places of its divider and "new
    activity" marks, filled in as each answer is served: the first by this visit's `mark` (the
    one before it, from readmarks.visit), the next ones by the person's mark then. None when
    the page is not kept so: the template writes them now."""
    environ = request.environ
    if request.method != "GET" or environ.get(KIND_ENVIRON) != "order" or KEY_ENVIRON not in environ:
        return None
    environ[FILL_LATER] = True
    environ[SEEN_ENVIRON] = mark
    return _SeenLater


def _instant(value) -> int | None:
    """A time as integer microseconds since 1970 (UTC), from a datetime or the text SQLite keeps
    (a naive one is UTC); None for None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.replace(microsecond=0).timestamp()) * 1_000_000 + value.microsecond


def _seen_token(placeholder: bytes) -> bytes:
    """Where a divider's place starts in a page kept with this one-time id placeholder (the
    keeping process's): its secret, not the placeholder itself (that is replaced by ids)."""
    return b"seen-" + placeholder.rsplit(b"-", 1)[-1] + b"-"


SEEN_TOKEN = _seen_token(_PLACEHOLDER).decode()


def _time_token(placeholder: bytes) -> bytes:
    """Where a relative time's place starts in a page kept with this one-time id placeholder
    (secgo.clock.later), as _seen_token."""
    return b"when-" + placeholder.rsplit(b"-", 1)[-1] + b"-"


TIME_TOKEN = _time_token(_PLACEHOLDER).decode()


@lru_cache(maxsize=64)  # one per process whose kept pages this one serves
def _seen_slot(token: bytes):
    return re.compile(re.escape(token) + rb"([dn])(e|-?\d+)\[(.*?)" + re.escape(token) + rb"\]", re.S)


def _seen_filled(body: bytes, placeholder: bytes, mark) -> bytes:
    """The body (kept with this placeholder) with its divider and "new activity" places filled
    for the read mark `mark`: as _timeline.html writes them, the divider before the first entry
    not after the mark (after the last when all are), when any is; a mark of an item whose
    activity is after the mark."""
    token = _seen_token(placeholder)
    if token not in body:
        return body
    seen = _instant(mark)
    slot = _seen_slot(token)
    slots = slot.findall(body)
    dividers = [at for kind, at, _html in slots if kind == b"d" and at != b"e"]
    new_count = 0 if seen is None else sum(int(at) > seen for at in dividers)
    place = [-1]

    def fill(m) -> bytes:
        kind, at, html = m.group(1), m.group(2), m.group(3)
        if kind == b"n":
            return html if seen is not None and int(at) > seen else b""
        place[0] += 1
        return html if new_count and place[0] == new_count else b""

    return slot.sub(fill, body)


def tab_later(count: str) -> Markup | None:
    """Where the tab number "orders" or "issues" of a kept order page or issues list goes, put
    in as each answer is served (the page's key leaves the numbers out: news on another order
    leaves the page kept); None when the page is not kept so, and its numbers are written now."""
    if (request.method != "GET" or request.environ.get(TABS_LATER) is None
            or KEY_ENVIRON not in request.environ):
        return None
    request.environ[FILL_LATER] = True  # (the page's language is noted by cached_page)
    return Markup(f"{TAB_TOKEN}{count}-")


def _tab_texts(app, tabs: str, numbers: dict | None) -> list[tuple[bytes, bytes]] | None:
    """(place, text) of each tab number of a kept page whose `tabs` is "token language" (or
    ""): none to fill; None when there are places but no numbers to put there."""
    if not tabs:
        return []
    if numbers is None:
        return None
    token, locale = tabs.split(" ", 1)
    return [(f"{token}{count}-".encode(), str(badge(locale, n, app)).encode())
            for count, n in numbers.items()]


def _filled(body: bytes, placeholder: bytes, accept_encoding: str, texts=(), seen=None,
            locale: str | None = None) -> tuple[str, bytes]:
    """(encoding, bytes) of a kept body with its tab numbers put in (`texts`: (place, text)
    pairs), its "new since your last visit" marks shown by the read mark `seen` (seen_later),
    its relative times written for now in `locale` (secgo.clock.later) and a fresh UUID in
    each of its one-time id placeholders."""
    for place, text in texts:
        body = body.replace(place, text)
    body = _seen_filled(body, placeholder, seen)
    if locale:
        body = clock.fill(body, _time_token(placeholder), utcnow().timestamp(),  # as formatting's
                          lambda kind, seconds: str(escape(relative_words(kind, seconds, locale))))
    parts = body.split(placeholder)
    if len(parts) == 1:  # (an issues list: the same words and numbers for a while)
        return encode_for(accept_encoding, body, again=True)
    ids = [str(uuid.uuid4()).encode() for _ in range(len(parts) - 1)]
    filled = b"".join(chain.from_iterable(zip(parts[:-1], ids, strict=True))) + parts[-1]
    return encode_for(accept_encoding, filled)


def _fill_headers(headers, encoding: str) -> list:
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "etag")]
    return kept if encoding == "identity" else [*kept, ("Content-Encoding", encoding)]


def tab_numbers(row, kind) -> dict | None:
    """The tab bar's numbers read with the key of a page whose numbers are put in as it is
    served (FILLED_NUMBERS; its row of user_and_version: the two columns before the mark); None
    for the orders list (it counts them as it is made: its key covers every change to them)."""
    if kind not in FILLED_NUMBERS or row is None:
        return None
    return readmarks_tab_numbers(row[-4:-2])


def page_life(environ) -> float:
    """Seconds the page just made reads as it would if made again with the same data: until
    the first of its clock-made changes (secgo.clock), the viewer's next midnight (overdue,
    this year) and MAX_AGE_SECONDS."""
    now = utcnow()
    zone = get_timezone()
    tomorrow = to_user_timezone(now).date() + timedelta(days=1)
    midnight = zone.localize(datetime.combine(tomorrow, dt_time()))
    left = clock.seconds_left(environ)
    return min(MAX_AGE_SECONDS, (midnight - now).total_seconds(),
               MAX_AGE_SECONDS if left is None else left)


def cached_page(kind: str):
    """Keep the view's answer for PageFront while the data it shows has not changed; `kind`
    (KINDS) says which versions it is keyed by: "orders" (the organizations'), "issues" (their
    issues lists'), "order" (the order in the address's `reference`)."""
    if kind not in KINDS:
        raise ValueError(kind)
    return lambda view: _cached(view, kind)


def _cached(view, kind):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_app.config.get("PAGE_CACHE", True) and current_user.is_authenticated:
            # The key PageFront read before Flask ran, when it is this user's: the versions in
            # it are no newer than the data the view reads now, so the page is never newer
            # under its key than it shows (a version read later could be).
            key, numbers, mark = request.environ.get(READ_KEY_ENVIRON) or (None, None, None)
            if key is None or key[2] != current_user.id:
                conn = db.session.connection()
                row = user_and_version(conn.engine, conn.connection.driver_connection,
                                       current_user.get_id(),
                                       current_app.config["REMEMBER_COOKIE_DURATION"], kind,
                                       kwargs.get("reference"))
                key = page_key(request.environ, request.cookies, session, current_user.id, row, kind)
                numbers = tab_numbers(row, kind)
                mark = row.read_mark() if row is not None and kind == "order" else None
            if key is not None:
                request.environ[KEY_ENVIRON] = key
                request.environ[KIND_ENVIRON] = kind
                if kind == "order":  # the person's read mark of the order, read with the key
                    g.order_mark_read = (normalize_reference(kwargs.get("reference")), mark)
                if numbers is not None:  # the tab bar's numbers, as read with the key
                    g.tab_counts = numbers
                    if kind in FILLED_NUMBERS:  # put in as each answer is served
                        request.environ[TABS_LATER] = numbers
                if kind in FILLED_NUMBERS:  # so are its relative times, in its language
                    request.environ[clock.LATER_ENVIRON] = TIME_TOKEN
                    request.environ[TABS_LOCALE] = str(get_locale())
        answer = view(*args, **kwargs)
        if KEY_ENVIRON in request.environ:
            request.environ[LIFE_ENVIRON] = page_life(request.environ)
        return answer

    wrapper.secgo_cached_page = kind
    return wrapper


class PageFront:
    """WSGI middleware: answer a page kept by @cached_page before Flask runs."""

    def __init__(self, app):
        self.app = app
        self.next = app.wsgi_app
        self.serializer = self.engine = self.endpoints = None

    def __call__(self, environ, start_response):
        environ[CPU_STARTED] = thread_time()
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

    def _cacheable(self, environ) -> tuple[str, dict] | None:
        """(kind, the address's arguments) when it is a kept page's; None otherwise."""
        try:
            rule, args = self.app.url_map.bind_to_environ(environ).match(return_rule=True)
        except HTTPException:
            return None
        environ["secgo.route"] = rule.rule
        if self.endpoints is None:
            self.endpoints = {name: view.secgo_cached_page for name, view in self.app.view_functions.items()
                              if getattr(view, "secgo_cached_page", None)}
        kind = self.endpoints.get(rule.endpoint)
        return (kind, args) if kind else None

    def _answer(self, environ):
        cookies = parse_cookie(environ)
        cookie = cookies.get(self.app.config["SESSION_COOKIE_NAME"])
        page = self._cacheable(environ) if cookie else None
        if page is None:
            return None
        kind, args = page
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
        front = front_engine(self.engine)
        for attempt in (1, 2):
            raw = (front or self.engine).raw_connection()
            try:
                row = user_and_version(self.engine, raw.driver_connection, login_id,
                                       self.app.config["REMEMBER_COOKIE_DURATION"], kind,
                                       args.get("reference"), prepared=front is not None)
                break
            except self.engine.dialect.loaded_dbapi.OperationalError:
                if front is None or attempt == 2:
                    raise
                raw.invalidate()  # one the database dropped (say, it restarted): once more, anew
            finally:
                raw.close()
        if row is None or not row[1]:  # as secgo.authn.load_user
            return None
        environ[SIGNED_IN_READ] = (login_id, row.signed_in)  # Flask, if it runs, need not read it again
        key = page_key(environ, cookies, data, row[0], row, kind)
        if key is None:
            return None
        entry = self.app.extensions[STORE_EXTENSION].get((key, environ.get("HTTP_ACCEPT_ENCODING", "")))
        if entry is None or entry[5] <= time.time():
            # the view keeps its page under it, with the tab bar's numbers it holds
            environ[READ_KEY_ENVIRON] = (key, tab_numbers(row, kind), row.read_mark() if kind == "order" else None)
            return None
        status, headers, body, etag, placeholder, _expires, tabs = entry
        if placeholder:
            texts = _tab_texts(self.app, tabs, tab_numbers(row, kind))
            if texts is None:
                return None
            encoding, body = _filled(body, placeholder, environ.get("HTTP_ACCEPT_ENCODING", ""), texts,
                                     seen=row[-2] if kind == "order" else None,
                                     locale=tabs.split(" ", 1)[1] if tabs else None)
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
        locale = environ.get(TABS_LOCALE)
        tabs = f"{TAB_TOKEN} {locale}" if locale else ""
        life = environ.get(LIFE_ENVIRON, 0)
        if key is not None and seen["status"].startswith("200") and life > 0:
            self.app.extensions[STORE_EXTENSION].put(
                (key, accept_encoding),
                (seen["status"], headers, body, etag, _PLACEHOLDER if fill else b"",
                 time.time() + life, tabs))
        if not fill:
            return [body]
        encoding, body = _filled(body, _PLACEHOLDER, accept_encoding,
                                 _tab_texts(self.app, tabs, environ.get(TABS_LATER)) or (),
                                 seen=environ.get(SEEN_ENVIRON), locale=locale)
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


def _this_transaction(session) -> tuple[set, set, set, set, set]:
    """(orders, issues, organizations, their issues lists, order pages) already bumped in the
    session's current transaction."""
    transaction = session.get_transaction()
    kept = session.info.get("secgo_bumped")
    if kept is None or kept[0] is not transaction:
        kept = (transaction, set(), set(), set(), set(), set())
        session.info["secgo_bumped"] = kept
    return kept[1:]


# What an issues list shows of an order besides its issues: its organizations and crossing.
_ORDER_ON_ISSUES = ("producer_org_id", "customer_org_id", "border_crossing")


def _bump_updated_orders(session: Session, _flush_context, _instances) -> None:
    """Before a flush: an order whose own row the flush updates (its status, its latest
    activity ...) has its version put up in that same UPDATE, one statement the fewer than
    after it (_bump_versions then leaves it alone: once per transaction)."""
    done_pages = _this_transaction(session)[4]
    for obj in session.dirty:
        if (isinstance(obj, Order) and obj.id not in done_pages
                and session.is_modified(obj, include_collections=False)):
            obj.data_version = Order.data_version + 1
            done_pages.add(obj.id)


def _bump_versions(session: Session, _flush_context) -> None:
    """In the flush's transaction: +1 to the organizations a change belongs to — an order's
    or issue's two organizations, those of the order or issue an update, confirmation, link,
    comment or issue event is on, and an edited organization with its trading partners; +1 to
    the issues list of those of an issue, comment or issue event, of an order whose
    organizations or crossing changed, and of an edited organization with its partners; and
    +1 to the orders whose page shows it: the order changed, the one an update, confirmation,
    link, document, photo, issue, comment or issue event is on, and every order of an edited
    organization (its name, its cluster's and its people's are on their pages) or over a
    crossing whose papers checklist changed."""
    orgs, order_ids, issue_ids, edited, pages, crossings = set(), set(), set(), set(), set(), set()
    on_issues = set()  # organizations whose issues list changes
    done_orders, done_issues, bumped, bumped_issues, done_pages = _this_transaction(session)
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, UNSEEN):
            continue
        if isinstance(obj, Order):
            orgs.update(_org_ids(obj))
            pages.add(obj.id)
            state = db.inspect(obj)
            if obj in session.dirty and any(state.attrs[name].history.has_changes()
                                            for name in _ORDER_ON_ISSUES):
                on_issues.update(_org_ids(obj))
        elif isinstance(obj, Issue):
            orgs.update(_org_ids(obj))
            on_issues.update(_org_ids(obj))
            pages.add(obj.order_id)
            pages.update(db.inspect(obj).attrs["order_id"].history.deleted or ())
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
        elif isinstance(obj, CrossingRequirement):  # the papers checklist of its orders' pages
            crossings.add(obj.crossing)
            crossings.update(db.inspect(obj).attrs["crossing"].history.deleted or ())
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
    pages |= order_ids
    conn = session.connection()
    held, issue_ids = _held(session, Issue, issue_ids, ("order_id", "producer_org_id", "customer_org_id"))
    if issue_ids:
        held += conn.execute(select(Issue.order_id, Issue.producer_org_id, Issue.customer_org_id)
                             .where(Issue.id.in_(issue_ids))).all()
    for order_id, producer, customer in held:
        pages.add(order_id)
        on_issues.update((producer, customer))
    held, order_ids = _held(session, Order, order_ids, ("producer_org_id", "customer_org_id"))
    for producer, customer in held:
        orgs.update((producer, customer))
    if order_ids:
        orgs.update(conn.scalars(union(select(Order.producer_org_id).where(Order.id.in_(order_ids)),
                                       select(Order.customer_org_id).where(Order.id.in_(order_ids)))))
    orgs |= on_issues
    if edited:  # its name is on its partners' pages (and in what their search matches)
        partners = set(conn.scalars(union(
            select(Order.customer_org_id).where(Order.producer_org_id.in_(edited)),
            select(Order.producer_org_id).where(Order.customer_org_id.in_(edited)))))
        orgs |= edited | partners
        on_issues |= edited | partners
    _bump_organizations(conn, orgs, on_issues, bumped, bumped_issues)
    _bump_order_pages(conn, pages - done_pages, edited, crossings)
    done_pages |= pages


def _held(session, model, ids: set, names: tuple) -> tuple[list, set]:
    """(the values of `names` of each of these rows that the session holds loaded, the ids of
    the others). After a flush what the session holds is what the database has (the app never
    changes these columns but through the session)."""
    held, others = [], set()
    for ident in ids:
        obj = session.identity_map.get(identity_key(model, ident))
        values = sa_inspect(obj).dict if obj is not None else {}
        if all(name in values for name in names):
            held.append(tuple(values[name] for name in names))
        else:
            others.add(ident)
    return held, others


def _bump_organizations(conn, data: set, issues: set, done_data: set, done_issues: set) -> None:
    """+1 to the data version of the `data` organizations and to the issues lists' of the
    `issues` ones, each once per transaction (`done_…`): one statement for both."""
    data, issues = data - done_data - {None}, issues - done_issues - {None}
    done_data |= data
    done_issues |= issues
    both = data | issues
    if not both:
        return
    table = Organization.__table__
    values = {}
    for column, ids in (("data_version", data), ("issues_version", issues)):
        if ids == both:
            values[column] = table.c[column] + 1
        elif ids:
            values[column] = table.c[column] + case((table.c.id.in_(sorted(ids)), 1), else_=0)
    conn.execute(update(table).where(table.c.id.in_(sorted(both))).values(values))


def _bump_order_pages(conn, order_ids: set, edited: set, crossings: set) -> None:
    """+1 to these orders' versions, to every order of these edited organizations and to
    every order over these crossings (rare: a rename, a checklist changed; every page of those
    orders shows the name or the checklist)."""
    order_ids.discard(None)
    table = Order.__table__
    whole = []
    if order_ids:
        whole.append(table.c.id.in_(sorted(order_ids)))
    if edited:
        whole += [table.c.producer_org_id.in_(sorted(edited)), table.c.customer_org_id.in_(sorted(edited))]
    if crossings:
        whole.append(table.c.border_crossing.in_(sorted(crossings)))
    if whole:
        conn.execute(update(table).where(or_(*whole)).values(data_version=table.c.data_version + 1))


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
    app.jinja_env.globals["seen_later"] = seen_later
    if not event.contains(db.session, "after_flush", _bump_versions):
        event.listen(db.session, "before_flush", _bump_updated_orders)
        event.listen(db.session, "after_flush", _bump_versions)
    app.wsgi_app = PageFront(app)
