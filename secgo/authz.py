"""Who may see and do what: the visibility rules (the README's Security model), in one place."""
from functools import wraps
from types import SimpleNamespace

from flask import abort
from flask_login import current_user
from sqlalchemy import Integer, bindparam, false, or_, select, true

from .models import Cluster, Issue, Order, Organization, cluster_coordinators_table


def coordinator_cluster_ids(user):
    """A subquery of the cluster ids a coordinator coordinates."""
    return select(cluster_coordinators_table.c.cluster_id).where(
        cluster_coordinators_table.c.user_id == user.id
    )


def _visible_clause(user, producer_org_id, customer_org_id):
    """The one visibility rule, on the columns naming an order's two organizations."""
    if user is None or not user.is_authenticated:
        return false()
    if user.role == "admin":
        return true()
    if user.role == "coordinator":
        producers = select(Organization.id).where(
            Organization.cluster_id.in_(coordinator_cluster_ids(user))
        )
        return producer_org_id.in_(producers)
    if user.role == "producer":
        return producer_org_id == user.organization_id
    if user.role == "customer":
        return customer_org_id == user.organization_id
    return false()


def sees_one_organization(user) -> bool:
    """Whether the user sees the orders of one organization only (their own): at most a few
    thousand, however many the corridor has."""
    return user is not None and user.is_authenticated and user.role in ("producer", "customer")


def stand_in(role: str, prefix: str):
    """A signed-in user of this role whose id and organization are binds (prefix_me,
    prefix_org; their values: stand_in_binds): for a statement built once per role with these
    rules in it, and run for every user of that role."""
    return SimpleNamespace(is_authenticated=True, role=role, id=bindparam(f"{prefix}_me", type_=Integer),
                           organization_id=bindparam(f"{prefix}_org", type_=Integer))


def stand_in_binds(user, prefix: str) -> dict:
    """The values of stand_in(user.role, prefix)'s binds for this user."""
    return {f"{prefix}_me": user.id, f"{prefix}_org": user.organization_id}


def visible_orgs_clause(user):
    """A WHERE clause on Organization: the organizations on whose side the user sees orders.

    The same rule with an organization on both sides, so every order and issue the user may
    see has at least one of its two organizations here (the page cache keys pages on their
    data versions). `user` may be a stand-in whose `id` and `organization_id` are columns
    (role, id, organization_id, is_authenticated), for one statement that serves every user.
    """
    return _visible_clause(user, Organization.id, Organization.id)


def visible_orders_clause(user):
    """A WHERE clause selecting the orders the user may see."""
    return _visible_clause(user, Order.producer_org_id, Order.customer_org_id)


def visible_issues_clause(user):
    """A WHERE clause selecting the issues the user may see (those of the orders they see),
    on the organizations copied onto each issue, so that no join to orders is needed."""
    return _visible_clause(user, Issue.producer_org_id, Issue.customer_org_id)


def visible_matches_clause(user):
    """A WHERE clause selecting the business matches the user may see: the orders' rule on a
    match's two organizations (its producer's coordinators, the producer, the buyer; admins)."""
    from .models import Match

    return _visible_clause(user, Match.producer_org_id, Match.buyer_org_id)


def visible_events_clause(user):
    """A WHERE clause selecting the matching events the user may see: the coordinators of a
    cluster one of whose producers took part, and admins. Producers and buyers see their own
    matches (visible_matches_clause), not the event's other participants."""
    from .models import MatchingEvent
    from .models.matching import event_organizations

    if user is None or not user.is_authenticated:
        return false()
    if user.role == "admin":
        return true()
    if user.role == "coordinator":
        producers = select(Organization.id).where(Organization.cluster_id.in_(coordinator_cluster_ids(user)))
        return MatchingEvent.id.in_(select(event_organizations.c.event_id).where(
            event_organizations.c.organization_id.in_(producers)))
    return false()


def match_side(user, match) -> str | None:
    """Which side of a match the user stands on (producer, customer, coordinator, admin):
    the order rule (order_side) on the match's two organizations."""
    from types import SimpleNamespace

    return order_side(user, SimpleNamespace(producer_org_id=match.producer_org_id,
                                            customer_org_id=match.buyer_org_id,
                                            producer_org=match.producer_org))


def order_side(user, order) -> str | None:
    """Which side of the order the user stands on: producer, customer, coordinator, admin."""
    if user is None or not user.is_authenticated:
        return None
    if user.role == "admin":
        return "admin"
    if user.role == "producer" and order.producer_org_id == user.organization_id:
        return "producer"
    if user.role == "customer" and order.customer_org_id == user.organization_id:
        return "customer"
    if user.role == "coordinator":
        cluster_id = order.producer_org.cluster_id
        if any(c.id == cluster_id for c in user.clusters):
            return "coordinator"
    return None


def can_see_order(user, order) -> bool:
    """True when the user may see the order at all."""
    return order_side(user, order) is not None


def managed_clusters(user) -> list[Cluster]:
    """Clusters where the user may onboard members (coordinators: theirs; admin: all)."""
    from .extensions import db

    if not user.is_authenticated:
        return []
    if user.role == "admin":
        return list(db.session.scalars(select(Cluster).order_by(Cluster.name)))
    if user.role == "coordinator":
        return sorted(user.clusters, key=lambda c: c.name)
    return []


def manageable_orgs_clause(user):
    """A WHERE clause on Organization: those the user may invite people into or reset them in.

    Admins: all. Coordinators: the producers of their clusters, and a customer organization
    only while every order it has is with those producers (or it has none yet). A customer
    that also buys from another cluster needs an admin: an account a coordinator creates or
    resets there would reach orders of clusters the coordinator has nothing to do with.
    """
    if user is None or not user.is_authenticated:
        return false()
    if user.role == "admin":
        return true()
    if user.role == "coordinator":
        ids = coordinator_cluster_ids(user)
        producers = select(Organization.id).where(Organization.cluster_id.in_(ids))
        buys_elsewhere = select(Order.customer_org_id).where(Order.producer_org_id.not_in(producers))
        own_producer = (Organization.kind == "producer") & Organization.cluster_id.in_(ids)
        customer = (Organization.kind == "customer") & Organization.id.not_in(buys_elsewhere)
        return or_(own_producer, customer)
    return false()


def manageable_users_clause(user):
    """A WHERE clause on User: the people the user may reset, edit, deactivate or reactivate.

    Admins: everyone. Coordinators: producers and customers of the organizations they may
    onboard into (manageable_orgs_clause), never a coordinator or an admin.
    """
    from .models import User

    if user is None or not user.is_authenticated:
        return false()
    if user.role == "admin":
        return true()
    if user.role == "coordinator":
        orgs = select(Organization.id).where(manageable_orgs_clause(user))
        return User.role.in_(("producer", "customer")) & User.organization_id.in_(orgs)
    return false()


def roles_required(*roles):
    """Refuse (403) a logged-in user whose role is not one of these."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from .extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def order_audience(order, sides=("producer", "customer", "coordinator")) -> list:
    """Active people on the given sides of an order (for notifications)."""
    from .extensions import db
    from .models import User

    clauses = []
    if "producer" in sides:
        clauses.append((User.role == "producer") & (User.organization_id == order.producer_org_id))
    if "customer" in sides:
        clauses.append((User.role == "customer") & (User.organization_id == order.customer_org_id))
    if "coordinator" in sides:
        coordinators = select(cluster_coordinators_table.c.user_id).where(
            cluster_coordinators_table.c.cluster_id == order.producer_org.cluster_id
        )
        clauses.append((User.role == "coordinator") & User.id.in_(coordinators))
    if not clauses:
        return []
    return list(db.session.scalars(select(User).where(or_(*clauses), User.active.is_(True))))


# --- producer profiles, the directory and enquiries ---------------------------------------------
# The directory is for those who buy and those who match buyers with producers: customers,
# coordinators (of any cluster: matching crosses clusters) and admins. Producers see their own
# profile only: a directory of competitors' contacts and capacities is not theirs to browse.
DIRECTORY_ROLES = ("customer", "coordinator", "admin")


def can_use_directory(user) -> bool:
    """True for those who may browse the producer directory."""
    return bool(user is not None and user.is_authenticated and user.role in DIRECTORY_ROLES)


def can_see_profile(user, org) -> bool:
    """A producer's profile: the directory's users, and the producer's own people."""
    if org is None or org.kind != "producer":
        return False
    if can_use_directory(user):
        return True
    return bool(user is not None and user.is_authenticated and user.role == "producer"
                and user.organization_id == org.id)


def can_edit_profile(user, org) -> bool:
    """The organization's own people, the coordinators of its cluster, admins."""
    if user is None or not user.is_authenticated or org is None or org.kind != "producer":
        return False
    if user.role == "admin":
        return True
    if user.role == "producer":
        return user.organization_id == org.id
    if user.role == "coordinator":
        return any(c.id == org.cluster_id for c in user.clusters)
    return False


def can_see_private_profile(user, org) -> bool:
    """A profile's private fields (contact phone, capacity marked private): the producer, its
    coordinators and admins, and a customer that already deals with it (an order or an enquiry)."""
    from .extensions import db
    from .models import Enquiry

    if can_edit_profile(user, org):
        return True
    if user is None or not user.is_authenticated or user.role != "customer":
        return False
    mine = user.organization_id
    order = select(Order.id).where(Order.producer_org_id == org.id, Order.customer_org_id == mine)
    enquiry = select(Enquiry.id).where(Enquiry.producer_org_id == org.id, Enquiry.customer_org_id == mine)
    return bool(db.session.scalar(select(order.exists())) or db.session.scalar(select(enquiry.exists())))


def can_see_cluster_profile(user, cluster) -> bool:
    """A cluster's profile (its page in the directory): the directory's users."""
    return cluster is not None and can_use_directory(user)


def can_edit_cluster_profile(user, cluster) -> bool:
    """The cluster's coordinators and admins."""
    if user is None or not user.is_authenticated or cluster is None:
        return False
    if user.role == "admin":
        return True
    return user.role == "coordinator" and any(c.id == cluster.id for c in user.clusters)


def can_see_private_cluster_profile(user, cluster) -> bool:
    """A cluster profile's private fields (the contact phone): its coordinators and admins, and a
    customer that already deals with one of its producers (an order or an enquiry)."""
    from .extensions import db
    from .models import Enquiry

    if can_edit_cluster_profile(user, cluster):
        return True
    if user is None or not user.is_authenticated or user.role != "customer" or cluster is None:
        return False
    members = select(Organization.id).where(Organization.cluster_id == cluster.id)
    mine = user.organization_id
    order = select(Order.id).where(Order.producer_org_id.in_(members), Order.customer_org_id == mine)
    enquiry = select(Enquiry.id).where(Enquiry.producer_org_id.in_(members), Enquiry.customer_org_id == mine)
    return bool(db.session.scalar(select(order.exists())) or db.session.scalar(select(enquiry.exists())))


def visible_enquiries_clause(user):
    """A WHERE clause selecting the enquiries the user may see: the same rule as for orders, on
    the enquiry's two organizations (the producer's coordinators see them; other producers not)."""
    from .models import Enquiry

    return _visible_clause(user, Enquiry.producer_org_id, Enquiry.customer_org_id)


def enquiry_audience(enquiry) -> list:
    """Active people of an enquiry's two organizations and the producer's cluster coordinators."""
    from .extensions import db
    from .models import User

    coordinators = select(cluster_coordinators_table.c.user_id).where(
        cluster_coordinators_table.c.cluster_id == enquiry.producer_org.cluster_id)
    return list(db.session.scalars(select(User).where(or_(
        (User.role == "producer") & (User.organization_id == enquiry.producer_org_id),
        (User.role == "customer") & (User.organization_id == enquiry.customer_org_id),
        (User.role == "coordinator") & User.id.in_(coordinators),
    ), User.active.is_(True))))
