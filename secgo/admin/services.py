"""Clusters, organizations and people: lists, edits, deactivation and reactivation.

The admin pages and the `flask cluster/org/user` commands call these (one place for each
rule); who may reach whom is authz's (manageable_orgs_clause, manageable_users_clause).
Callers commit.
"""
from dataclasses import dataclass
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..auth.services import EMAIL_RE, end_all_credentials, normalize_phone
from ..authz import managed_clusters, manageable_orgs_clause, manageable_users_clause
from ..config import LOCALES, TIMEZONES
from ..errors import ApiError
from ..extensions import db
from ..i18n import fold
from ..ids import MAX_ID
from ..limits import LIMITS, clean_text
from ..models import (
    COUNTRIES, ORG_KINDS, Cluster, Invite, Order, Organization, User, utcnow,
)
from ..onboarding.services import invitable_roles

PAGE_SIZE = 25
# The shell's commands act as an administrator who is nobody in particular.
SHELL = SimpleNamespace(id=None, role="admin", is_authenticated=True, clusters=[])

CHOOSE = _l("Please choose one of the offered values.")
CHOOSE_COUNTRY = _l("Choose a country.")
CHOOSE_LANGUAGE = _l("Choose a language.")
CHOOSE_TIMEZONE = _l("Choose a time zone.")
CHOOSE_COORDINATORS = _l("Choose coordinators from the list.")
NAME_TAKEN = _l("A cluster with this name already exists.")
KIND_FIXED = _l("An organization that has orders or people cannot change its kind.")
NOT_YOURSELF = _l("You cannot deactivate yourself.")
OWN_ROLE = _l("You cannot change your own role.")
LAST_ADMIN = _l("SEC GO! needs at least one active administrator.")
ORG_INACTIVE = _l("This organization is deactivated: reactivate it first.")


# --- lists: paged, searched by name in every script (secgo.i18n.search.fold) ----------------

@dataclass
class Page:
    """One page of a searched list."""

    items: list
    total: int
    number: int
    pages: int
    q: str


def page_number(value) -> int:
    """The page asked for in a query argument: a whole number from 1, else 1."""
    text = str(value or "")
    return int(text) if text.isdecimal() and 0 < len(text) <= 6 and int(text) > 0 else 1


def _search(rows, q: str, number: int, load) -> Page:
    """rows: (id, text, ...) in display order; keep those whose folded texts contain the
    folded query, then load the asked page's records by id (load(ids) -> {id: record})."""
    q = str(q or "")[:LIMITS["q"]].strip()
    needle = fold(q)
    ids = [row[0] for row in rows if not needle or any(needle in fold(t) for t in row[1:] if t)]
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    number = min(max(1, number), pages)
    chosen = ids[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
    found = load(chosen) if chosen else {}
    return Page([found[i] for i in chosen if i in found], len(ids), number, pages, q)


def list_clusters(q="", number=1) -> Page:
    """Clusters by name (admins only: the caller checks)."""
    rows = db.session.execute(
        select(Cluster.id, Cluster.name, Cluster.product, Cluster.province).order_by(Cluster.name)
    ).all()
    return _search(rows, q, number, lambda ids: {c.id: c for c in db.session.scalars(
        select(Cluster).options(selectinload(Cluster.coordinators)).where(Cluster.id.in_(ids)))})


def list_organizations(actor, q="", number=1) -> Page:
    """The organizations the actor may manage, by name."""
    rows = db.session.execute(
        select(Organization.id, Organization.name)
        .where(manageable_orgs_clause(actor)).order_by(Organization.name, Organization.id)
    ).all()
    return _search(rows, q, number, lambda ids: {o.id: o for o in db.session.scalars(
        select(Organization).options(selectinload(Organization.cluster))
        .where(Organization.id.in_(ids)))})


def list_people(actor, q="", number=1) -> Page:
    """The people the actor may manage, by name (found by name, login, e-mail or phone)."""
    rows = db.session.execute(
        select(User.id, User.display_name, User.username, User.email, User.phone)
        .where(manageable_users_clause(actor)).order_by(User.display_name, User.id)
    ).all()
    return _search(rows, q, number, lambda ids: {u.id: u for u in db.session.scalars(
        select(User).options(selectinload(User.organization)).where(User.id.in_(ids)))})


# --- finding one: 404 outside the actor's reach -------------------------------------------

def _id(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def get_cluster(cluster_id) -> Cluster:
    """The cluster, or 404."""
    cluster = db.session.get(Cluster, _id(cluster_id)) if _id(cluster_id) else None
    if cluster is None:
        raise ApiError(404)
    return cluster


def get_organization(actor, org_id) -> Organization:
    """The organization if the actor may manage it; 404 otherwise (never a hint it exists)."""
    org = db.session.scalar(select(Organization).where(
        Organization.id == _id(org_id), manageable_orgs_clause(actor))) if _id(org_id) else None
    if org is None:
        raise ApiError(404)
    return org


def get_person(actor, user_id) -> User:
    """The person if the actor may manage them; 404 otherwise."""
    person = db.session.scalar(select(User).where(
        User.id == _id(user_id), manageable_users_clause(actor))) if _id(user_id) else None
    if person is None:
        raise ApiError(404)
    return person


def find_person(login: str) -> User | None:
    """The person with this username (the shell's commands)."""
    return db.session.scalar(select(User).where(func.lower(User.username) == (login or "").lower()))


# --- checks on fields ---------------------------------------------------------------------

def _text(data, name, limit, errors, *, required=False) -> str:
    found = {}
    text = clean_text(data.get(name), limit, found, required=required)
    if found:
        errors[name] = found[limit]
    return str(text)


def _choice(data, name, allowed, errors, message):
    value = data.get(name)
    if value not in allowed:
        errors[name] = message
        return None
    return value


def _ids(values, name, errors) -> list[int]:
    if values is None or values == "":
        return []
    if not isinstance(values, list):
        values = [values]
    ids = [_id(v) if not isinstance(v, bool) else None for v in values[:200]]
    if len(values) > 200 or None in ids:
        errors[name] = CHOOSE
        return []
    return ids


def _one_id(data, name, errors):
    value = data.get(name)
    if value in (None, "", "0", 0):
        return None
    found = _ids(value if not isinstance(value, list) else [value], name, errors)
    return found[0] if found else None


def _refuse(errors):
    if errors:
        raise ApiError(422, fields=errors)


# --- clusters (admins) ----------------------------------------------------------------------

def save_cluster(cluster: Cluster | None, data: dict) -> Cluster:
    """Create a cluster (cluster=None) or change one: name, country, province, product and
    its coordinators (people whose role is coordinator)."""
    errors: dict = {}
    name = _text(data, "name", "cluster_name", errors, required=True)
    country = _choice(data, "country", COUNTRIES, errors, CHOOSE_COUNTRY)
    province = _text(data, "province", "province", errors)
    product = _text(data, "product", "cluster_product", errors, required=True)
    coordinator_ids = _ids(data.get("coordinators"), "coordinators", errors)
    coordinators = []
    if coordinator_ids:
        coordinators = list(db.session.scalars(select(User).where(
            User.id.in_(coordinator_ids), User.role == "coordinator")))
        if len(coordinators) != len(set(coordinator_ids)):
            errors["coordinators"] = CHOOSE_COORDINATORS
    if "name" not in errors:
        twin = db.session.scalar(select(Cluster.id).where(func.lower(Cluster.name) == name.lower()))
        if twin is not None and (cluster is None or twin != cluster.id):
            errors["name"] = NAME_TAKEN
    _refuse(errors)
    if cluster is None:
        cluster = Cluster(name=name, country=country, province=province, product=product)
        db.session.add(cluster)
    before = sorted(u.id for u in cluster.coordinators)
    cluster.name, cluster.country, cluster.province, cluster.product = name, country, province, product
    cluster.coordinators = coordinators
    db.session.flush()
    after = sorted(u.id for u in coordinators)
    if before != after:  # who may see the cluster's orders changed
        record("cluster_changed", details={"cluster": cluster.id, "coordinators_from": before,
                                           "coordinators_to": after})
    return cluster


def coordinator_choices() -> list[User]:
    """People who may coordinate a cluster (their role is coordinator)."""
    return list(db.session.scalars(
        select(User).where(User.role == "coordinator").order_by(User.display_name)))


# --- organizations --------------------------------------------------------------------------

def _has_orders_or_people(org: Organization) -> bool:
    orders = select(Order.id).where((Order.producer_org_id == org.id) | (Order.customer_org_id == org.id))
    people = select(User.id).where(User.organization_id == org.id)
    return db.session.scalar(select(orders.exists())) or db.session.scalar(select(people.exists()))


def update_organization(actor, org: Organization, data: dict) -> Organization:
    """Change an organization's name, country, province, kind and cluster (a producer's
    cluster is one the actor manages; the kind is fixed once it has orders or people)."""
    errors: dict = {}
    name = _text(data, "name", "org_name", errors, required=True)
    country = _choice(data, "country", COUNTRIES, errors, CHOOSE_COUNTRY)
    province = _text(data, "province", "province", errors)
    kind = _choice(data, "kind", ORG_KINDS, errors, CHOOSE)
    cluster = None
    cluster_id = _one_id(data, "cluster", errors)
    if kind == "producer":
        cluster = next((c for c in managed_clusters(actor) if c.id == cluster_id), None)
        if cluster is None:
            errors["cluster"] = _l("Choose one of your clusters.")
    if kind and kind != org.kind and _has_orders_or_people(org):
        errors["kind"] = KIND_FIXED
    _refuse(errors)
    old_cluster, old_place = org.cluster_id, (org.country, org.province)
    org.name, org.country, org.province, org.kind = name, country, province, kind
    org.cluster = cluster
    db.session.flush()
    if org.kind == "producer" and (old_cluster, old_place) != (org.cluster_id, (org.country, org.province)):
        # its past orders now count in another cluster's (and coordinator's) figures, or route
        from ..coordinator.promptness import recompute_all

        recompute_all()
    if old_cluster != org.cluster_id:  # who coordinates its people changed
        record("organization_edited", actor=actor, organization=org,
               details={"cluster_from": old_cluster, "cluster_to": org.cluster_id})
    return org


def cluster_choices(actor) -> list[Cluster]:
    """Clusters a producer may be put in by the actor."""
    return managed_clusters(actor)


def _end_access(person: User, now) -> None:
    """Deactivated: every sign-in, remember cookie and API token ends, and any unused invite
    or reset link is used up (it would work again after a reactivation)."""
    person.active = False
    end_all_credentials(person)
    db.session.execute(update(Invite).where(Invite.user_id == person.id, Invite.used_at.is_(None))
                       .values(used_at=now))


def deactivate_organization(actor, org: Organization) -> Organization:
    """Deactivate an organization and all its people: none of them can sign in, it is offered
    for no new order; its orders and issues stay as they are."""
    now = utcnow()
    org.active = False
    people = db.session.scalars(select(User).where(User.organization_id == org.id, User.active)).all()
    for person in people:
        _end_access(person, now)
    record("organization_deactivated", actor=actor, organization=org,
           details={"people": [p.id for p in people]})
    db.session.flush()
    return org


def reactivate_organization(actor, org: Organization) -> Organization:
    """Reactivate an organization; its people stay deactivated until each is reactivated."""
    if not org.active:
        record("organization_reactivated", actor=actor, organization=org)
    org.active = True
    db.session.flush()
    return org


# --- people -----------------------------------------------------------------------------------

def _active_admins() -> int:
    return db.session.scalar(select(func.count()).where(User.role == "admin", User.active.is_(True)))


def _is_last_admin(person: User) -> bool:
    return person.role == "admin" and person.active and _active_admins() <= 1


def role_choices(actor) -> tuple[str, ...]:
    """Roles the actor may give someone (the invite rules: coordinators producers and customers)."""
    return invitable_roles(actor)


def organization_choices(actor) -> list[Organization]:
    """Active organizations the actor may put someone in."""
    return list(db.session.scalars(select(Organization).where(
        manageable_orgs_clause(actor), Organization.active.is_(True)).order_by(Organization.name)))


def _contact(data, errors, person, name, limit, check, taken, normal):
    raw = _text(data, name, limit, errors)
    if name in errors or not raw:
        return None
    value = normal(raw)
    if value is None or not check(value):
        errors[name] = {"email": _l("This is not an e-mail address."),
                        "phone": _l("Enter the phone number with digits only, e.g. +85512345678.")}[name]
        return None
    column = User.email if name == "email" else User.phone
    twin = db.session.scalar(select(User.id).where(func.lower(column) == value.lower(), User.id != person.id))
    if twin is not None:
        errors[name] = taken
    return value


def update_person(actor, person: User, data: dict) -> User:
    """Change a person's name, role (within the actor's invite rules), organization, language,
    time zone, e-mail and phone; an admin also chooses a coordinator's clusters."""
    errors: dict = {}
    display_name = _text(data, "display_name", "display_name", errors, required=True)
    role = _choice(data, "role", role_choices(actor), errors, _l("Choose a role."))
    if role and role != person.role:
        if getattr(actor, "id", None) == person.id:
            errors["role"] = OWN_ROLE
        elif _is_last_admin(person):
            errors["role"] = LAST_ADMIN
    locale = _choice(data, "locale", LOCALES, errors, CHOOSE_LANGUAGE)
    timezone = _choice(data, "timezone", TIMEZONES, errors, CHOOSE_TIMEZONE)
    email = _contact(data, errors, person, "email", "email", EMAIL_RE.match,
                     _l("This e-mail address is already used."), lambda v: v.strip().lower())
    phone = _contact(data, errors, person, "phone", "phone", bool,
                     _l("This phone number is already used."), normalize_phone)
    org = None
    org_id = _one_id(data, "organization", errors)
    if role in ("producer", "customer"):
        org = next((o for o in organization_choices(actor) if o.id == org_id), None)
        if org is None and org_id is not None and org_id == person.organization_id:
            org = person.organization  # staying in an organization already theirs
            if not org.active:
                errors["organization"] = ORG_INACTIVE
        if org is None or org.kind != role:
            errors.setdefault("organization", _l("Choose an organization of this kind."))
    clusters = []
    if role == "coordinator":
        wanted = set(_ids(data.get("clusters"), "clusters", errors))
        clusters = [c for c in managed_clusters(actor) if c.id in wanted]
        if "clusters" not in errors and not clusters:
            errors["clusters"] = _l("Choose at least one cluster.")
    _refuse(errors)
    before = (person.role, person.organization_id, sorted(c.id for c in person.clusters))
    person.display_name, person.role, person.locale, person.timezone = (
        display_name, role, locale, timezone)
    person.email, person.phone = email, phone
    person.organization = org
    person.clusters = clusters
    db.session.flush()
    _record_person_change(actor, person, before)
    return person


def _record_person_change(actor, person: User, before) -> None:
    """The account history: a role, an organization or clusters (what the person may see)
    changed, or anything else about the account."""
    role, org_id, cluster_ids = before
    if role != person.role:
        record("role_changed", actor=actor, subject=person, details={"from": role, "to": person.role})
    if org_id != person.organization_id:
        record("organization_changed", actor=actor, subject=person,
               details={"from": org_id, "to": person.organization_id})
    if cluster_ids != sorted(c.id for c in person.clusters):
        record("person_changed", actor=actor, subject=person,
               details={"clusters": sorted(c.id for c in person.clusters)})
    elif role == person.role and org_id == person.organization_id and db.session.is_modified(person):
        record("person_changed", actor=actor, subject=person)


def deactivate_person(actor, person: User) -> User:
    """Deactivate someone: every sign-in and API token ends at once. Nobody deactivates
    themself or the last active administrator."""
    if getattr(actor, "id", None) == person.id:
        raise ApiError(409, NOT_YOURSELF, code="not_yourself")
    if _is_last_admin(person):
        raise ApiError(409, LAST_ADMIN, code="last_admin")
    if person.active:
        _end_access(person, utcnow())
        record("person_deactivated", actor=actor, subject=person)
    db.session.flush()
    return person


def reactivate_person(actor, person: User) -> User:
    """Let someone sign in again (with their password, or a new link); not while their
    organization is deactivated."""
    if person.organization is not None and not person.organization.active:
        raise ApiError(409, ORG_INACTIVE, code="organization_inactive")
    if not person.active:
        record("person_reactivated", actor=actor, subject=person)
    person.active = True
    db.session.flush()
    return person

