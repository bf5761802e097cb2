"""Issue rules: raising, commenting, the state machine. Pages and API call these; callers commit."""
from flask import url_for

from ..authz import order_audience, order_side
from ..errors import ApiError
from ..extensions import db
from ..i18n import normalize_text
from ..models import CATEGORIES, SEVERITIES, Issue, IssueEvent, utcnow
from .. import notify


def raise_issue(order, actor, *, category, severity, title, description="", photos=(),
                client_id=None, actor_label=None, delivery=None) -> Issue:
    """Open an issue on an order (producer, customer, coordinator, admin or a tracking link)."""
    side = order_side(actor, order) if actor is not None else "customer"
    if side is None:
        raise ApiError(404)
    fields = {}
    if category not in CATEGORIES:
        fields["category"] = "invalid"
    if severity not in SEVERITIES:
        fields["severity"] = "invalid"
    title_text = normalize_text(title)
    if not title_text or len(title_text) > 140:
        fields["title"] = "invalid"
    body = normalize_text(description)
    if len(body) > 4000:
        fields["description"] = "invalid"
    if fields:
        raise ApiError(422, fields=fields)
    now = utcnow()
    issue = Issue(
        order=order, category=category, severity=severity, title=str(title_text),
        description=str(body), description_original=body.original, state="open",
        raised_by=actor, raised_by_label=actor_label, raised_by_side=side,
        client_id=client_id, created_at=now, updated_at=now,
    )
    issue.photos = list(photos)
    db.session.add(issue)
    db.session.flush()
    db.session.add(IssueEvent(issue=issue, from_state=None, to_state="open", actor=actor, created_at=now))
    order.last_activity_at = now
    recipients = [u for u in order_audience(order) if actor is None or u.id != actor.id]
    notify.enqueue(
        "issue_opened", recipients, url=url_for("issues.detail", issue_id=issue.id) if _has_detail() else "/issues",
        order=order, issue=issue, params={"reference": order.reference, "title": issue.title},
    )
    return issue


def _has_detail() -> bool:
    from flask import current_app

    return "issues.detail" in current_app.view_functions
