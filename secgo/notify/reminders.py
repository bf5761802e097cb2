"""Reminders: asking for the report that is missing, and the coordinators' Monday digest.

The push worker runs scan() now and then (and `push-worker --once` runs it once). It writes
reminders to the notification outbox, where the worker sends them like any other
notification, in each recipient's language:

- remind_stale (producers): an active order with no update for REMIND_STALE_DAYS days;
- remind_due (producers): an order due within DUE_SOON_DAYS days and not yet dispatched;
- remind_confirm (customers): updates left unconfirmed for UNCONFIRMED_HOURS; one reminder
  naming how many, whatever the number of updates and orders;
- weekly_digest (coordinators): Monday from DIGEST_AT, their open issues, the unanswered ones
  and the overdue orders, and the past week's promptness (reports, delay, confirmations, on
  time, time at the border);
- remind_match (coordinators): 3, 6 and 12 months after a business-matching event of their
  clusters, how many of its matches they see have not reached a repeat order (and are still
  pursued). Once per event, coordinator and milestone for good: a `match_follow_ups` row under
  a unique constraint (the `reminders` rows are forgotten after KEEP_DAYS); only the latest
  milestone due is given, and not once it is FOLLOW_UP_LATE_DAYS old.

At most one reminder per person, kind, order and day (the recipient's day): a row in
`reminders` under a unique constraint records each, and on PostgreSQL a transaction-level
advisory lock serialises the scan, so several workers never remind twice. Only people with a
device that wants the kind are reminded (the settings page switches each kind per device).
Nobody is reminded between QUIET_FROM and QUIET_UNTIL of their own time zone: a reminder
due then is held in the outbox until QUIET_UNTIL, and checked again when it is sent (at_send):
still the recipient's day, the order still theirs to see and still without its report (or
not dispatched; the updates still unconfirmed).
"""
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..authz import can_see_order, visible_issues_clause, visible_orders_clause
from ..config import TIMEZONES
from ..coordinator.services import UNCONFIRMED_HOURS  # the dashboard's "unconfirmed for 24 h"
from ..extensions import db
from ..models import (
    FOLLOW_UP_MONTHS, STATUSES, ChannelLink, Issue, MatchFollowUp, MatchingEvent, Order,
    PushSubscription, Reminder, StatusUpdate, User, utcnow,
)
from . import REMINDERS, enqueue, wants

QUIET_FROM, QUIET_UNTIL = time(21, 0), time(7, 0)  # the recipient's night: nothing is sent
DIGEST_AT = time(8, 0)  # Monday, the coordinator's own time
DUE_SOON_DAYS = 2
NOT_DISPATCHED = STATUSES[:STATUSES.index("dispatched")]  # accepted, in production, ready
KEEP_DAYS = 15  # reminders given are kept this long (a week's digest and a week's margin)
FOLLOW_UP_LATE_DAYS = 31  # a follow-up reminder a month late is still worth giving; later, not
LOCK = 7015  # pg_advisory_xact_lock key of the scan (find_unanswered_issues uses 7007)


# --- the recipient's clock ---------------------------------------------------------------

def zone(user) -> ZoneInfo:
    """The recipient's time zone (the configured default when theirs is not one we know)."""
    name = user.timezone if user.timezone in TIMEZONES else current_app.config["BABEL_DEFAULT_TIMEZONE"]
    return ZoneInfo(name)


def held_until(user, now: datetime) -> datetime | None:
    """QUIET_UNTIL of the recipient's coming morning when it is night for them, else None."""
    tz = zone(user)
    local = now.astimezone(tz)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=tz).astimezone(UTC)


def _arrival_day(user, now: datetime) -> date:
    """The recipient's day on which a reminder made now arrives (the next one, at night)."""
    return (held_until(user, now) or now).astimezone(zone(user)).date()


# --- the scan ----------------------------------------------------------------------------

def scan(now: datetime | None = None) -> int:
    """Write every reminder due now to the outbox; the number written. Flushes only."""
    now = now or utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SELECT pg_advisory_xact_lock({LOCK})"))
    # What was given more than a fortnight ago no longer decides anything.
    db.session.execute(delete(Reminder).where(Reminder.day < (now - timedelta(days=KEEP_DAYS)).date()))
    listeners = _listeners(now)
    given = _given(now)
    return (_stale(listeners["remind_stale"], given, now) + _due(listeners["remind_due"], given, now)
            + _unconfirmed(listeners["remind_confirm"], given, now)
            + _digests(listeners["weekly_digest"], given, now)
            + _follow_ups(listeners["remind_match"], now))


ROLES = {"remind_stale": "producer", "remind_due": "producer", "remind_confirm": "customer",
         "weekly_digest": "coordinator", "remind_match": "coordinator"}


def _listeners(now) -> dict[str, dict[int, User]]:
    """Per kind, the active people of its role with a device that wants it or a linked channel."""
    rows = db.session.execute(
        select(User, PushSubscription.events).join(PushSubscription, PushSubscription.user_id == User.id)
        .where(User.active.is_(True), User.role.in_(set(ROLES.values())))
        .order_by(User.id, PushSubscription.id)
    ).all()
    found = {kind: {} for kind in REMINDERS}
    for user, events in rows:
        for kind in REMINDERS:
            if ROLES[kind] == user.role and wants(events, kind):
                found[kind][user.id] = user
    # A linked Telegram chat or SMS number carries every event of its person's role
    # (channels.sender.plan, whose condition this is): they are reminded there too.
    linked = db.session.scalars(
        select(User).join(ChannelLink, ChannelLink.user_id == User.id)
        .where(User.active.is_(True), User.role.in_(set(ROLES.values())),
               ChannelLink.enabled.is_(True), ChannelLink.address.is_not(None))
        .order_by(User.id)
    ).unique().all()
    for user in linked:
        for kind in REMINDERS:
            if ROLES[kind] == user.role:
                found[kind][user.id] = user
    return found


def _given(now) -> set[tuple]:
    """(user, kind, order, day) of the reminders of the last days: not given twice."""
    return set(db.session.execute(
        select(Reminder.user_id, Reminder.kind, Reminder.order_key, Reminder.day)
        .where(Reminder.day >= (now - timedelta(days=8)).date())
    ).all())


def _remind(user, kind, now, given, *, url, order=None, params, day=None) -> int:
    """Write one reminder unless it was given already today; 1 when written."""
    hold = held_until(user, now)
    day = day or _arrival_day(user, now)
    key = (user.id, kind, order.id if order is not None else 0, day)
    if key in given:
        return 0
    try:
        with db.session.begin_nested():  # the unique constraint is the last word
            db.session.add(Reminder(user_id=user.id, kind=kind, order_key=key[2], day=day, created_at=now))
    except IntegrityError:
        given.add(key)
        return 0
    given.add(key)
    return enqueue(kind, [user], url=url, order=order, params=params, not_before=hold or now)


def _who(role):
    """A person of this role as a row of the statement, for authz's one visibility rule."""
    person = aliased(User, name="reminded")
    return person, SimpleNamespace(is_authenticated=True, role=role, id=person.id,
                                   organization_id=person.organization_id)


def _orders_seen(role, user_ids, *where, extra=()):
    """(person id, Order, *extra) for the orders each of these people may see, matching where."""
    if not user_ids:
        return []
    person, who = _who(role)
    return db.session.execute(
        select(person.id, Order, *extra).select_from(person).join(Order, visible_orders_clause(who))
        .where(person.id.in_(user_ids), *where).order_by(Order.id, person.id)
    ).all()


def _stale(users, given, now) -> int:
    days = current_app.config["REMIND_STALE_DAYS"]
    cutoff = now - timedelta(days=days)
    recent = exists().where(StatusUpdate.order_id == Order.id, StatusUpdate.recorded_at >= cutoff)
    last_update = (select(func.max(StatusUpdate.recorded_at)).where(StatusUpdate.order_id == Order.id)
                   .correlate(Order).scalar_subquery())
    made = 0
    for user_id, order, last in _orders_seen("producer", list(users), ~Order.is_final,
                                             Order.created_at < cutoff, ~recent, extra=(last_update,)):
        last = last or order.created_at
        made += _remind(users[user_id], "remind_stale", now, given, url=order_url(order), order=order,
                        params={"reference": order.reference,
                                "days": max(days, (now - last) // timedelta(days=1))})
    return made


def _due(users, given, now) -> int:
    utc_day = now.astimezone(UTC).date()
    made = 0
    for user_id, order in _orders_seen(
        "producer", list(users), Order.status.in_(NOT_DISPATCHED),
        Order.due_date >= utc_day - timedelta(days=1),  # every zone's today is within a day of UTC's
        Order.due_date <= utc_day + timedelta(days=DUE_SOON_DAYS + 1),
    ):
        user = users[user_id]
        today = now.astimezone(zone(user)).date()
        if today <= order.due_date <= today + timedelta(days=DUE_SOON_DAYS):
            made += _remind(user, "remind_due", now, given, url=order_url(order), order=order,
                            params={"reference": order.reference, "due": order.due_date.isoformat()})
    return made


def unconfirmed_counts(user_ids, now) -> dict[int, int]:
    """Per customer, the updates they may see that wait for confirmation longer than
    UNCONFIRMED_HOURS."""
    if not user_ids:
        return {}
    person, who = _who("customer")
    return dict(db.session.execute(
        select(person.id, func.count(StatusUpdate.id)).select_from(person)
        .join(Order, visible_orders_clause(who)).join(StatusUpdate, StatusUpdate.order_id == Order.id)
        .where(person.id.in_(user_ids), StatusUpdate.awaiting_confirmation,
               StatusUpdate.recorded_at < now - timedelta(hours=UNCONFIRMED_HOURS))
        .group_by(person.id)
    ).all())


def _unconfirmed(users, given, now) -> int:
    made = 0
    for user_id, count in sorted(unconfirmed_counts(list(users), now).items()):
        made += _remind(users[user_id], "remind_confirm", now, given, url=_awaiting_url(),
                        params={"count": count})
    return made


def _digests(users, given, now) -> int:
    made = 0
    for user in users.values():
        local = now.astimezone(zone(user))
        if local.weekday() == 0 and DIGEST_AT <= local.time() < QUIET_FROM:
            made += _remind(user, "weekly_digest", now, given, url=_dashboard_url(),
                            params=digest_params(user, now, local.date()), day=local.date())
    return made


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def _follow_ups(users, now) -> int:
    """Business-matching follow-ups: for each coordinator and event of their clusters, the
    latest milestone (3, 6, 12 months) that is due, once, when matches are still open."""
    from ..authz import visible_events_clause
    from ..matching.services import open_matches_count

    made = 0
    earliest = now.date() - timedelta(days=366 + FOLLOW_UP_LATE_DAYS + 1)
    late_limit = now.date() - timedelta(days=FOLLOW_UP_MONTHS[0] * 28)
    for user in users.values():
        today = now.astimezone(zone(user)).date()
        events = db.session.scalars(
            select(MatchingEvent).where(visible_events_clause(user), MatchingEvent.held_on >= earliest,
                                        MatchingEvent.held_on <= late_limit).order_by(MatchingEvent.id)
        ).all()
        for event in events:
            due = [m for m in FOLLOW_UP_MONTHS if add_months(event.held_on, m) <= today]
            if not due or (today - add_months(event.held_on, due[-1])).days > FOLLOW_UP_LATE_DAYS:
                continue
            months = due[-1]
            if db.session.scalar(select(MatchFollowUp.id).where(
                    MatchFollowUp.event_id == event.id, MatchFollowUp.user_id == user.id,
                    MatchFollowUp.months >= months)):
                continue
            count = open_matches_count(user, event)
            if not count:
                continue
            try:
                with db.session.begin_nested():  # the unique constraint is the last word
                    db.session.add(MatchFollowUp(event_id=event.id, user_id=user.id, months=months,
                                                 created_at=now))
            except IntegrityError:
                continue
            made += enqueue("remind_match", [user], url=_event_url(event),
                            params={"event_id": event.id, "event": event.name, "months": months,
                                    "count": count},
                            not_before=held_until(user, now) or now)
    return made


def digest_params(user, now: datetime, today: date) -> dict:
    """What a coordinator's Monday digest says, as numbers (payload.py words them in the
    recipient's language): the rules are those of the dashboard."""
    hours = current_app.config["COORDINATOR_UNANSWERED_HOURS"]
    unanswered = Issue.awaits_answer & (Issue.created_at < now - timedelta(hours=hours))
    open_issues, no_answer = db.session.execute(
        select(func.count(), func.count().filter(unanswered))
        .where(visible_issues_clause(user), Issue.is_open)
    ).one()
    overdue = db.session.scalar(
        select(func.count()).select_from(Order).where(visible_orders_clause(user), Order.is_overdue(today))
    )
    # The past week's promptness, by the dashboard's definitions (coordinator/promptness.py).
    from ..coordinator.promptness import week_summary

    week = week_summary(user, now - timedelta(days=7), now)
    return {"open_issues": open_issues, "unanswered": no_answer, "hours": hours, "overdue": overdue,
            "week": today.isoformat(),
            **{key: week[key] for key in ("updates", "delay_median_hours", "confirmed_share",
                                          "delivered", "on_time_share", "shipments",
                                          "border_median_hours")}}


# --- when a reminder is about to be sent -------------------------------------------------

def at_send(notification, user, now: datetime):
    """For a notification about to be sent: True to send it, a datetime to hold it until
    (a reminder in the recipient's night), False to drop it (a reminder about an order the
    recipient may no longer see, reported on or dispatched since, or updates confirmed since)."""
    if notification.event not in REMINDERS:
        return True
    hold = held_until(user, now)
    if hold is not None:
        # Sent in the morning, it is that day's reminder: the scan must not add another, and
        # when the scan has made that day's already, this one goes no further.
        # (A digest and a follow-up are kept once by their own day or row, not by the day's.)
        if notification.event not in ("weekly_digest", "remind_match") and not _take_day(
                user, notification, hold):
            return False
        return hold
    if notification.order_id is not None:
        order = db.session.get(Order, notification.order_id)
        if order is None or not can_see_order(user, order):
            return False
        if notification.event in ("remind_stale", "remind_due") and not _still_due(notification.event, order, now):
            return False  # reported or dispatched since the scan (overnight, say)
    if notification.event == "remind_confirm" and not unconfirmed_counts([user.id], now):
        return False
    if notification.event == "weekly_digest" and user.role != "coordinator":
        return False
    if notification.event == "remind_match" and not _sees_event(user, notification.params):
        return False
    return True


def _still_due(kind, order, now) -> bool:
    """The scan's condition, again for one order at send time: still no update for
    REMIND_STALE_DAYS (and not finished), or still not dispatched."""
    if kind == "remind_due":
        return order.status in NOT_DISPATCHED
    cutoff = now - timedelta(days=current_app.config["REMIND_STALE_DAYS"])
    return not order.is_final and not db.session.scalar(select(exists().where(
        StatusUpdate.order_id == order.id, StatusUpdate.recorded_at >= cutoff)))


def _sees_event(user, params) -> bool:
    """A follow-up goes only to a coordinator who still sees the event (authz decides)."""
    from ..authz import visible_events_clause
    from ..ids import is_id

    event_id = (params or {}).get("event_id")
    return is_id(event_id) and db.session.scalar(
        select(MatchingEvent.id).where(MatchingEvent.id == event_id, visible_events_clause(user))) is not None


def _take_day(user, notification, hold) -> bool:
    """Record the reminder as the one of the day it will arrive on; False when that day has one."""
    day = _arrival_day(user, hold)
    try:
        with db.session.begin_nested():
            db.session.add(Reminder(user_id=user.id, kind=notification.event,
                                    order_key=notification.order_id or 0, day=day, created_at=hold))
    except IntegrityError:
        return False
    return True


# --- where a reminder opens --------------------------------------------------------------

def _url(endpoint, fallback, **values) -> str:
    # The worker runs outside any request, where url_for() cannot build a URL.
    if endpoint not in current_app.view_functions:
        return fallback
    return current_app.url_map.bind("localhost").build(endpoint, values)


def order_url(order) -> str:
    """The order's page."""
    return _url("orders.detail", "/orders", reference=order.reference)


def _awaiting_url() -> str:
    """The orders list, only those with updates waiting for confirmation."""
    return _url("orders.index", "/orders", awaiting=1)


def _event_url(event) -> str:
    """A matching event's page, where its matches are followed up."""
    return _url("matching.event", "/matching", event_id=event.id)


def _dashboard_url() -> str:
    return _url("coordinator.dashboard", "/")
