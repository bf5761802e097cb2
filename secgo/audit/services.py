"""Recording account and permission events, reading them back, and forgetting old ones."""
from datetime import timedelta

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import delete, false, or_, select, true

from .. import authz
from ..extensions import db
from ..models import AuditEvent, Organization, User, utcnow

# action -> what the audit page calls it
ACTIONS = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "logout": _l("Logged out"),
    "password_changed": _l("Password changed"),
    "password_set_by_link": _l("Password set through a link"),
    "invite_issued": _l("Invite link made"),
    "reset_issued": _l("Password reset link made"),
    "person_created": _l("Account created"),
    "person_changed": _l("Account changed"),
    "role_changed": _l("Role changed"),
    "organization_changed": _l("Organization changed"),
    "person_deactivated": _l("Account deactivated"),
    "person_reactivated": _l("Account reactivated"),
    "organization_deactivated": _l("Organization deactivated"),
    "organization_reactivated": _l("Organization reactivated"),
    "organization_edited": _l("Organization moved to another cluster"),
    "cluster_changed": _l("Cluster coordinators changed"),
    "api_token_created": _l("API token made"),
    "api_token_revoked": _l("API token revoked"),
    "tracking_link_created": _l("Tracking link made"),
    "tracking_link_revoked": _l("Tracking link revoked"),
    "document_removed": _l("Document removed from an order"),
    "checklist_changed": _l("Document checklist of a crossing changed"),
    "data_exported": _l("Data downloaded"),
    "person_erased": _l("Personal data erased"),
    "match_stage_changed": _l("Business match moved to another stage"),
}
PER_PAGE = 50


def _address() -> str | None:
    return (request.remote_addr or "")[:45] or None if has_request_context() else None


def _actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def _event(action, actor, subject, organization, details) -> AuditEvent:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    actor = actor if actor is not None else _actor()
    if organization is None and subject is not None:
        organization = subject.organization_id
    org_id = organization.id if isinstance(organization, Organization) else organization
    return AuditEvent(action=action, actor_id=getattr(actor, "id", None),
                      subject_id=getattr(subject, "id", None), organization_id=org_id,
                      remote_addr=_address(), details=details or {})


def record(action: str, *, actor=None, subject=None, organization=None, details=None) -> None:
    """Add an event to the request's transaction: it is kept exactly when the change is."""
    db.session.add(_event(action, actor, subject, organization, details))


def visible_clause(viewer):
    """The events a viewer may read: admins all; coordinators those of the organizations
    they manage (authz.manageable_orgs_clause), and their own."""
    if viewer.role == "admin":
        return true()
    if viewer.role != "coordinator":
        return false()
    orgs = select(Organization.id).where(authz.manageable_orgs_clause(viewer))
    return or_(AuditEvent.organization_id.in_(orgs), AuditEvent.actor_id == viewer.id,
               AuditEvent.subject_id == viewer.id)


def events(viewer, *, action=None, person=None, since=None, until=None, page=1):
    """A page of the events the viewer may read, newest first, with the people named."""
    query = select(AuditEvent).where(visible_clause(viewer))
    if action:
        query = query.where(AuditEvent.action == action)
    if person is not None:
        query = query.where(or_(AuditEvent.actor_id == person.id, AuditEvent.subject_id == person.id))
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    rows = db.session.scalars(query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()
    ids = {i for row in rows for i in (row.actor_id, row.subject_id) if i}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    orgs_ids = {row.organization_id for row in rows if row.organization_id}
    orgs = ({o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_(orgs_ids)))}
            if orgs_ids else {})
    return rows[:PER_PAGE], len(rows) > PER_PAGE, people, orgs


def prune(now=None) -> int:
    """Forget events older than SECGO_AUDIT_RETENTION_DAYS; return how many."""
    days = current_app.config["AUDIT_RETENTION_DAYS"]
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.session.execute(delete(AuditEvent).where(AuditEvent.created_at < cutoff))
    return result.rowcount or 0
