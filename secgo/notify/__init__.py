"""The notification outbox: rows written in the same transaction as the event they announce.

Callers (order and issue services) call enqueue(); the push worker sends the rows later,
in each recipient's language. The worker also runs find_unanswered_issues() and the reminder
scan (reminders.scan) now and then.
"""
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, insert, select, text

from ..extensions import db
from ..models import Issue, Notification, utcnow

# event -> urgency (RFC 8030): what a phone should wake up for.
EVENTS = {
    "status_update": "normal",
    "confirmation": "low",
    "delivery": "high",
    "issue_opened": "high",
    "issue_comment": "normal",
    "issue_transition": "normal",
    "issue_unanswered": "high",
    # A buyer's enquiry to a producer, and each answer in its thread (secgo/profiles).
    "enquiry": "high",
    "enquiry_reply": "normal",
    # Reminders (secgo/notify/reminders.py): made by the push worker's scan, not by an event.
    "remind_stale": "normal",
    "remind_due": "normal",
    "remind_confirm": "normal",
    "weekly_digest": "low",
    "remind_match": "low",
}
REMINDERS = ("remind_stale", "remind_due", "remind_confirm", "weekly_digest", "remind_match")

# What each event is called on the settings page, where each device chooses its events.
EVENT_LABELS = {
    "status_update": _l("New status on an order"),
    "confirmation": _l("A customer confirmed an update"),
    "delivery": _l("A delivery was confirmed"),
    "issue_opened": _l("A new issue"),
    "issue_comment": _l("A new comment on an issue"),
    "issue_transition": _l("An issue changed state"),
    "issue_unanswered": _l("An issue nobody has answered"),
    "enquiry": _l("A buyer's enquiry"),
    "enquiry_reply": _l("An answer to an enquiry"),
    "remind_stale": _l("Reminder: an order with no update for a few days"),
    "remind_due": _l("Reminder: an order due soon and not yet dispatched"),
    "remind_confirm": _l("Reminder: updates waiting for my confirmation"),
    "weekly_digest": _l("Weekly summary on Monday morning"),
    "remind_match": _l("Reminder: follow up business matches 3, 6 and 12 months after an event"),
}

# The events each role can receive (the settings page offers only these).
ENQUIRY_EVENTS = ("enquiry", "enquiry_reply")
_ORDER_EVENTS = tuple(e for e in EVENTS if e not in REMINDERS and e not in ENQUIRY_EVENTS)
ROLE_EVENTS = {
    "producer": ("status_update", "confirmation", "delivery", "issue_opened", "issue_comment",
                 "issue_transition", "remind_stale", "remind_due", *ENQUIRY_EVENTS),
    "customer": ("status_update", "issue_opened", "issue_comment", "issue_transition",
                 "remind_confirm", "enquiry_reply"),
    "coordinator": (*_ORDER_EVENTS, *ENQUIRY_EVENTS, "weekly_digest", "remind_match"),
    "admin": _ORDER_EVENTS,
}


def wants(events, event: str) -> bool:
    """True when a device's event choice (empty = every event) includes this event."""
    return not events or event in events


def enqueue(event: str, recipients, *, url: str, order=None, issue=None, params=None,
            not_before=None) -> int:
    """Add one outbox row per distinct recipient; flush only (the caller commits).

    not_before holds the rows until then (a reminder in the recipient's night)."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    minor = event == "issue_opened" and getattr(issue, "severity", "high") != "high"
    rows = []
    seen = set()
    for user in recipients:
        if user is None or user.id in seen or not user.active:
            continue
        if minor and user.role == "coordinator":
            continue  # coordinators hear of high-severity issues, and of any left unanswered
        seen.add(user.id)
        rows.append({
            "user_id": user.id, "event": event, "order_id": order.id if order else None,
            "issue_id": issue.id if issue else None, "params": dict(params or {}), "url": url,
            "urgency": "normal" if minor else EVENTS[event],
            **({"next_attempt_at": not_before} if not_before is not None else {}),
        })
    if rows:
        # One statement for all of them (the unit of work would send one INSERT per row on
        # SQLite, to read back each id: 24 of them for a note on a busy order); no page
        # shows these rows, and nothing here needs their ids.
        db.session.execute(insert(Notification), rows)
    return len(rows)


def find_unanswered_issues(now=None, hours=None) -> int:
    """Tell coordinators, once per issue, about open issues nobody has answered for a while.

    Flushes only; the caller commits. Safe when several workers run it at once: on
    PostgreSQL a transaction-level advisory lock serialises the check, on SQLite the
    worker's write transaction does.
    """
    from ..authz import order_audience

    now = now or utcnow()
    if hours is None:
        hours = current_app.config.get("COORDINATOR_UNANSWERED_HOURS", 48)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7007)"))
    already = exists().where(
        Notification.issue_id == Issue.id, Notification.event == "issue_unanswered"
    )
    issues = db.session.scalars(
        select(Issue).where(
            Issue.awaits_answer,
            Issue.created_at < now - timedelta(hours=hours),
            ~already,
        ).order_by(Issue.id).limit(500)
    ).all()
    count = 0
    for issue in issues:
        order = issue.order
        coordinators = order_audience(order, sides=("coordinator",))
        enqueue(
            "issue_unanswered", coordinators, url=_issue_url(issue), order=order, issue=issue,
            params={"reference": order.reference, "title": issue.title, "hours": hours,
                    **({"title_phrase": issue.title_phrase} if issue.title_phrase else {})},
        )
        count += 1
    return count


def _issue_url(issue) -> str:
    # The worker runs outside any request, where url_for() cannot build a URL.
    adapter = current_app.url_map.bind("localhost")
    if "issues.detail" in current_app.view_functions:
        return adapter.build("issues.detail", {"issue_id": issue.id})
    return "/issues"
