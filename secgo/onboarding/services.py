"""Onboarding rules: which organizations and roles a coordinator may add. Callers commit."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import not_, select

from ..authz import managed_clusters, manageable_orgs_clause, visible_orders_clause
from ..errors import ApiError
from ..extensions import db
from ..i18n import normalize_text
from ..ids import MAX_ID
from ..models import Order, Organization, User

ASK_AN_ADMIN = _l("This organization also buys from other clusters: ask an administrator "
                  "to invite or reset its people.")


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
    """Organizations the actor may add people to (not a deactivated one)."""
    return list(
        db.session.scalars(
            select(Organization).where(manageable_orgs_clause(actor), Organization.active.is_(True))
            .order_by(Organization.name)
        )
    )


def orgs_needing_an_admin(actor: User) -> list[Organization]:
    """Customer organizations on the coordinator's orders whose people only an admin may
    invite or reset, because they also buy from other clusters."""
    if actor.role != "coordinator":
        return []
    on_their_orders = select(Order.customer_org_id).where(visible_orders_clause(actor))
    return list(
        db.session.scalars(
            select(Organization)
            .where(Organization.id.in_(on_their_orders), not_(manageable_orgs_clause(actor)))
            .order_by(Organization.name)
        )
    )


def organization_for_invite(actor: User, org_id) -> Organization | None:
    """The organization a new person joins, if the actor may add people to it (else None)."""
    if not isinstance(org_id, int) or not 0 < org_id <= MAX_ID:
        return None
    org = db.session.scalar(
        select(Organization).where(Organization.id == org_id, manageable_orgs_clause(actor),
                                   Organization.active.is_(True))
    )
    if org is None and any(o.id == org_id for o in orgs_needing_an_admin(actor)):
        raise ApiError(422, fields={"organization": ASK_AN_ADMIN})
    return org


def can_manage_user(actor: User, user: User) -> bool:
    """True when the actor may reset this person's password (make them a new link)."""
    if actor.role == "admin":
        return True
    if actor.role != "coordinator" or user.role not in ("producer", "customer"):
        return False
    if user.organization_id is None:
        return False
    return db.session.scalar(
        select(Organization.id).where(
            Organization.id == user.organization_id, manageable_orgs_clause(actor)
        )
    ) is not None


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
