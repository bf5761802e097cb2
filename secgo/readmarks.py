"""Unread marks: what happened on an order, an issue or an enquiry since its viewer last opened it.

The rule, defined here once (lists, tab counts, the API, the order timeline's and the issue
conversation's "new since your last visit" divider and the page cache read it):

- *Activity* is an order's `last_activity_at`, an issue's and an enquiry's `updated_at`, server
  times that every update, confirmation, delivery, issue, comment, transition and enquiry
  message moves forward.
- *Seen* is the person's `ReadMark.seen_at` for it: written when they open the order's or
  the issue's page (`visit`; a JSON or API read does not mark anything seen), and when they
  themselves act on it, from any page, the outbox or the API (`_mark_own_activity`): one's own
  activity is never news to oneself.
- *Unread*: activity later than the mark; without a mark, later than the person's floor —
  their account's creation or `UNREAD_DAYS` ago, whichever is later (older activity is not
  flagged, and the counts stay cheap: only recent activity is read, through the activity
  indexes).
- The tab counts stop at `COUNT_CAP` ("99+"), like every count that could grow without bound.

Marks are per person, so the page cache's key carries the person's latest mark
(`mark_version_expr`): a kept orders list never shows a mark that opening an order cleared.
"""
from datetime import datetime, timedelta

from flask import after_this_request, current_app, g, has_request_context
from sqlalchemy import and_, bindparam, case, event, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from .authz import (stand_in, stand_in_binds, visible_enquiries_clause, visible_issues_clause,
                    visible_orders_clause)
from .extensions import db
from .models import Enquiry, Issue, Order, ReadMark, utcnow
from .models.base import UTCDateTime
from .security import write_intent

UNREAD_DAYS = 30
COUNT_CAP = 99

# kind -> (the activity column, the id column)
_ACTIVITY = {"order": (Order.last_activity_at, Order.id), "issue": (Issue.updated_at, Issue.id),
             "enquiry": (Enquiry.updated_at, Enquiry.id)}
# The activity each kind's own writes move (marked seen for their author on flush).
_OWN = (("order", Order, "last_activity_at"), ("issue", Issue, "updated_at"),
        ("enquiry", Enquiry, "updated_at"))


def floor(user, now: datetime | None = None) -> datetime:
    """Activity before this is never unread for the user (no mark needed for it)."""
    low = mark_floor_low(now)
    created = getattr(user, "created_at", None)
    return max(low, created) if created is not None else low


def _mark(user_id, kind: str, target):
    return select(ReadMark.seen_at).where(
        ReadMark.user_id == user_id, ReadMark.kind == kind, ReadMark.target_id == target
    ).scalar_subquery()


def unread_expr(user, kind: str, now: datetime | None = None, low=None, mark=None):
    """SQL: the order (kind "order"), issue ("issue") or enquiry ("enquiry") of the row has news
    for the user (`low`: their floor as SQL; floor(user, now) when not given; `mark`: the
    user's mark of the row as SQL, a column joined by _with_news; read by a subquery otherwise)."""
    activity, target = _ACTIVITY[kind]
    if low is None:
        low = floor(user, now)
    if mark is None:
        mark = _mark(user.id, kind, target)
    return and_(activity > low, activity > func.coalesce(mark, low))


def _with_news(user, kind: str, visible, low):
    """SQL: the ids of the orders or issues the user may see (`visible`) with news for them.
    Their marks are joined rather than looked up row by row: the database reads the person's
    marks once, where a subquery per row was a scan of every mark per row while the table was
    small enough for the planner to prefer scanning it (3 to 4 ms for a coordinator's counts
    with a thousand marks in all)."""
    _activity, target = _ACTIVITY[kind]
    mark = aliased(ReadMark)
    joined = and_(mark.user_id == user.id, mark.kind == kind, mark.target_id == target)
    return (select(target).select_from(target.table).outerjoin(mark, joined)
            .where(visible, unread_expr(user, kind, low=low, mark=mark.seen_at)))


def unread_ids(user, kind: str, ids) -> set[int]:
    """Which of these orders or issues (ids) have news for the user: one query."""
    ids = sorted(set(ids))
    if not ids:
        return set()
    _activity, target = _ACTIVITY[kind]
    return set(db.session.scalars(select(target).where(target.in_(ids), unread_expr(user, kind))))


def _capped_count(stmt):
    return select(func.count()).select_from(stmt.limit(COUNT_CAP + 1).subquery()).scalar_subquery()


def tab_count_exprs(user, low) -> tuple:
    """SQL: the user's orders and issues with news, each counted up to COUNT_CAP + 1, `low`
    their floor as SQL (`user` may be a stand-in whose id and organization are SQL: binds
    here, the signed-in user's columns in the page cache's own statement)."""
    return (_capped_count(_with_news(user, "order", visible_orders_clause(user), low)),
            _capped_count(_with_news(user, "issue", visible_issues_clause(user), low)))


def floor_expr(created_at, low):
    """SQL: floor() of a user row whose creation is `created_at` (`low`: mark_floor_low())."""
    return case((and_(created_at.is_not(None), created_at > low), created_at), else_=low)


# role -> the tab counts' statement, the person in it as binds: built once per role and process
# (every page shows the counts; building the statement took longer than the database runs it).
_TAB_COUNTS: dict = {}


def tab_count_columns(role: str) -> tuple:
    """The two tab counts (tab_count_exprs) of a person of this role, who is binds (tab_binds):
    for a statement built once, alone or with other columns."""
    return tab_count_exprs(stand_in(role, "tab"), bindparam("tab_floor", type_=UTCDateTime()))


def tab_binds(user) -> dict:
    """The values of tab_count_columns' binds for this user."""
    return {**stand_in_binds(user, "tab"), "tab_floor": floor(user)}


def _tab_counts_statement(role: str):
    stmt = _TAB_COUNTS.get(role)
    if stmt is None:
        stmt = _TAB_COUNTS[role] = select(*tab_count_columns(role))
    return stmt


def tab_counts(user) -> dict:
    """{"orders": n, "issues": n}: the user's orders and issues with news, each counted up to
    COUNT_CAP + 1 (show "99+" above COUNT_CAP), in one query."""
    return tab_numbers(db.session.execute(_tab_counts_statement(user.role), tab_binds(user)).one())


def tab_numbers(counts) -> dict:
    """The tab counts as the tab bar takes them, from the two values tab_count_columns gave."""
    return {"orders": counts[0], "issues": counts[1]}


def enquiry_count(user) -> int:
    """The user's enquiries with news, counted up to COUNT_CAP + 1 (show "99+" above it)."""
    stmt = select(Enquiry.id).where(visible_enquiries_clause(user), unread_expr(user, "enquiry"))
    return db.session.scalar(select(_capped_count(stmt))) or 0


def last_seen(user, kind: str, target_id: int) -> datetime | None:
    """When the user last opened (or acted on) this order or issue; None if never."""
    return db.session.scalar(
        select(ReadMark.seen_at).where(ReadMark.user_id == user.id, ReadMark.kind == kind,
                                       ReadMark.target_id == target_id))


def _upsert(connection, rows: list[dict]) -> None:
    """Insert or move forward (never back) read marks, on SQLite and PostgreSQL alike."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = ReadMark.__table__
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.kind, table.c.target_id],
        set_={"seen_at": stmt.excluded.seen_at},
        where=table.c.seen_at < stmt.excluded.seen_at,
    )
    connection.execute(stmt, rows)


def mark_seen(user, kind: str, target_id: int, at: datetime | None = None) -> None:
    """Record that the user has seen the order or issue as of `at` (now); the caller commits."""
    _upsert(db.session.connection(), [{"user_id": user.id, "kind": kind, "target_id": target_id,
                                       "seen_at": at or utcnow()}])


def visit(user, kind: str, item) -> datetime | None:
    """The user opens the order's or issue's page: returns their previous visit (for the
    "new since your last visit" divider) and marks it seen as of now once the page is made
    (its own short transaction, after the page rendered: a mark that cannot be saved is
    logged and never costs the page). A mark already later than the item's activity is left
    as it is: nothing would change (it is read, and no divider moves), and the person's kept
    lists stay kept (the page cache's key carries their latest mark). So is an item never
    opened whose activity is before the person's floor: it is not news, and a mark would
    change nothing but the key of every page they have kept (and its first divider: an item
    opened only when it was old shows none, as one never opened). The previous mark of an
    order is the one the page cache read with the page's key, when it did (no query again)."""
    activity_column, id_column = _ACTIVITY[kind]
    target_id = getattr(item, id_column.key)
    read = g.get("order_mark_read") if kind == "order" else None
    if read is not None and read[0] == item.reference:  # the page cache read it with the page's key
        previous = read[1]
    else:
        previous = last_seen(user, kind, target_id)
    activity = getattr(item, activity_column.key)
    if previous is not None and activity is not None and previous >= activity:
        return previous
    now = utcnow()
    if previous is None and activity is not None and activity <= floor(user, now):
        return None
    row = {"user_id": user.id, "kind": kind, "target_id": target_id, "seen_at": now}

    @after_this_request
    def _save(response):
        if response.status_code < 400:
            # The page was read in a read transaction; a write in it would fail at once on
            # SQLite (WAL) when someone else wrote meanwhile. End it, and write in a
            # transaction that takes the write lock first (and so waits its turn).
            intent = write_intent.set(True)
            try:
                db.session.commit()
                _upsert(db.session.connection(), [row])
                db.session.commit()
            except SQLAlchemyError:
                db.session.rollback()
                current_app.logger.warning("read mark not saved", exc_info=True)
                from .pagecache import not_kept  # (the page cache reads the marks: imported here)

                not_kept()  # a kept page would not move it at the next visit: that one must
            finally:
                write_intent.reset(intent)
        return response

    return previous


def _mark_own_activity(session, _flush_context) -> None:
    """In the flush's transaction: what the signed-in person just did on an order or issue
    moves their own mark to that activity's time (their own activity is never unread)."""
    if not has_request_context():
        return
    user = g.get("_login_user")  # loaded already for any write; never load it here
    if user is None or not getattr(user, "is_authenticated", False):
        return
    seen: dict = {}
    for obj in (*session.new, *session.dirty):
        for kind, model, name in _OWN:
            if not isinstance(obj, model):
                continue
            state = db.inspect(obj)
            at = state.dict.get(name)
            if at is None or obj.id is None:
                continue
            if obj not in session.new and not state.attrs[name].history.has_changes():
                continue
            key = (kind, obj.id)
            seen[key] = max(seen.get(key, at), at)
    if seen:
        _upsert(session.connection(), [
            {"user_id": user.id, "kind": kind, "target_id": target_id, "seen_at": at}
            for (kind, target_id), at in sorted(seen.items())
        ])


def mark_version_expr(user_id_column, created_at_column, low, kind: str | None = None):
    """SQL: the latest mark of a user that can matter to the unread rule (the page cache's
    key), of one kind when given: later than the person's floor (`low`: UNREAD_DAYS ago, a
    time or a bindparam; and their account's creation). A mark at or before the floor is as
    good as none: when it falls behind, the person's pages need not change."""
    stmt = select(func.max(ReadMark.seen_at)).where(
        ReadMark.user_id == user_id_column, ReadMark.seen_at > low,
        or_(created_at_column.is_(None), ReadMark.seen_at > created_at_column))
    if kind is not None:
        stmt = stmt.where(ReadMark.kind == kind)
    return stmt.scalar_subquery()


def mark_floor_low(now: datetime | None = None) -> datetime:
    """The time-bound part of floor(): `low` of mark_version_expr."""
    return (now or utcnow()) - timedelta(days=UNREAD_DAYS)


def init_app(app) -> None:
    """Own activity marks itself seen: one after_flush hook on the app's session (once)."""
    if not event.contains(db.session, "after_flush", _mark_own_activity):
        event.listen(db.session, "after_flush", _mark_own_activity)
