"""The notification outbox: rows written in the same transaction as the event they announce.

Callers (order and issue services) call enqueue(); the push worker sends the rows later,
in each recipient's language.
"""
from ..extensions import db
from ..models import Notification

# event -> urgency (RFC 8030): what a phone should wake up for.
EVENTS = {
    "status_update": "normal",
    "confirmation": "low",
    "delivery": "high",
    "issue_opened": "high",
    "issue_comment": "normal",
    "issue_transition": "normal",
    "issue_unanswered": "high",
}


def enqueue(event: str, recipients, *, url: str, order=None, issue=None, params=None) -> int:
    """Add one outbox row per distinct recipient; flush only (the caller commits)."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    count = 0
    seen = set()
    for user in recipients:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        db.session.add(
            Notification(
                user_id=user.id, event=event, order_id=order.id if order else None,
                issue_id=issue.id if issue else None, params=dict(params or {}), url=url,
                urgency=EVENTS[event],
            )
        )
        count += 1
    return count
