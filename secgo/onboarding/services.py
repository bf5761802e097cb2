"""Onboarding rules: which organizations and roles a coordinator may add. Callers commit."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..authz import managed_clusters, manageable_orgs_clause
from ..errors import ApiError
from ..extensions import db
from ..i18n import normalize_text
from ..models import Organization, User


def invitable_roles(actor: User) -> tuple[str, ...]:
    """Roles the actor may invite: admins any, coordinators producers and customers."""
    if actor.role == "admin":
        return ("producer", "customer", "coordinator", "admin")
    if actor.role == "coordinator":
        return ("producer", "customer")
    return ()


def coordinator_clusters(role: str, allowed, chosen_ids) -> list:
    """The clusters a new coordinator gets: those chosen among the inviter's own."""
    if role != "coordinator":
        return []
    chosen = [c for c in allowed if c.id in set(chosen_ids or ())]
    if not chosen:
        raise ApiError(422, fields={"clusters": _l("Choose at least one cluster.")})
    return chosen


def manageable_orgs(actor: User) -> list[Organization]:
    """Organizations the actor may add people to."""
    return list(
        db.session.scalars(
            select(Organization).where(manageable_orgs_clause(actor)).order_by(Organization.name)
        )
    )


def can_manage_user(actor: User, user: User) -> bool:
    """True when the actor may reset this person's password."""
    if actor.role == "admin":
        return True
    if actor.role != "coordinator" or user.role not in ("producer", "customer"):
        return False
    return user.organization is not None and user.organization in manageable_orgs(actor)


def create_organization(actor: User, *, kind, name, country, province, cluster_id) -> Organization:
    """Add an organization; a producer joins one of the actor's clusters."""
    cluster = None
    if kind == "producer":
        cluster = next((c for c in managed_clusters(actor) if c.id == cluster_id), None)
        if cluster is None:
            raise ApiError(422, fields={"cluster": _l("Choose one of your clusters.")})
    org = Organization(
        kind=kind, name=str(normalize_text(name)), country=country,
        province=str(normalize_text(province)), cluster=cluster,
    )
    db.session.add(org)
    db.session.flush()
    return org
