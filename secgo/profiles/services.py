"""Producer profiles, their track record, the directory and enquiries: the rules, once.

Called by the pages (secgo/profiles/routes.py) and the API (secgo/api/profiles.py). Who may
see and edit what is authz's; writes only flush (secgo.writes commits).
"""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from ..attachments.services import MAX_PHOTOS, photos_from_request
from ..auth.services import normalize_phone
from ..authz import (can_edit_cluster_profile, can_edit_profile, can_see_cluster_profile,
                     can_see_profile, can_use_directory, enquiry_audience, visible_enquiries_clause)
from ..coordinator.promptness import _share, median_p90
from ..coordinator.services import seconds_between
from ..errors import ApiError
from ..extensions import db
from ..i18n import fold
from ..ids import MAX_ID, is_id
from ..limits import LIMITS, clean_text
from ..models import (CERT_KINDS, COUNTRIES, COUNTRY_LANGUAGE, MARKETS, SPOKEN, Attachment, Cluster,
                      ClusterProfile, Enquiry,
                      EnquiryMessage, Issue, Order, Organization, Profile, ProfileCertification,
                      ProfileProduct, PromptnessRollup, utcnow)
from ..notify import enqueue
from ..orders.services import _decimal

MAX_PRODUCTS = 12
CERTIFICATE_MIMES = ("image/jpeg", "application/pdf")  # what a certification's document may be
MAX_CERTIFICATIONS = 8
MAX_CAPACITY = Decimal("1000000000")
PAGE_SIZE = 20
# Below this many orders delivered in the period the figures say too little: not shown.
MIN_DELIVERED = 5
TRACK_MONTHS = 12

CHOOSE = _l("Please choose one of the offered values.")
BAD_DATE = _l("Use a date such as 2027-06-30.")
BAD_PHONE = _l("Enter the phone number with digits only, e.g. +85512345678.")
BAD_MONTH = _l("Choose a month.")
BAD_LIST = _l("Expected a list.")
BAD_SWITCH = _l("Expected true or false.")
TOO_MANY = _l("At most %(n)s.")
NO_PRODUCT_NAME = _l("Give the product a name.")
NOT_A_BUYER = _l("Only buyers can send an enquiry.")


# --- reading -------------------------------------------------------------------------------

def _id(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def get_producer(user, org_id) -> Organization:
    """The producer organization whose profile the user may see; 404 otherwise."""
    org = db.session.get(Organization, _id(org_id)) if _id(org_id) else None
    if org is None or not org.active or not can_see_profile(user, org):
        raise ApiError(404)
    return org


def editable_producer(user, org_id) -> Organization:
    """The producer whose profile the user may edit: 404 when unseen, 403 when only seen."""
    org = get_producer(user, org_id)
    if not can_edit_profile(user, org):
        raise ApiError(403)
    return org


def profile_of(org: Organization) -> Profile:
    """The organization's profile, an empty unsaved one when it has none yet."""
    profile = db.session.scalar(select(Profile).where(Profile.org_id == org.id).options(
        selectinload(Profile.products), selectinload(Profile.certifications),
        selectinload(Profile.photos)))
    return profile or Profile(org_id=org.id, organization=org, description="", description_en="",
                              contact_name="", contact_phone="", contact_languages="",
                              export_markets="", capacity_private=False, show_track_record=False,
                              products=[], certifications=[], photos=[])


def shown_text(own: str, english: str, producer_country: str, locale: str) -> str:
    """A text the producer wrote in its language and in English, in the viewer's language
    where it exists: its own to a reader of that language, else English when given."""
    if locale == COUNTRY_LANGUAGE.get(producer_country) or not english:
        return own or english
    return english


def today_in(zone) -> date:
    """Today's date where the viewer is (certifications expire on a day)."""
    return datetime.now(zone).date()


# --- the track record -----------------------------------------------------------------------

@dataclass
class TrackRecord:
    """What SEC GO! itself knows about how a producer delivers (never typed by anyone)."""

    first_month: str
    last_month: str
    delivered: int
    enough: bool
    on_time_share: int | None = None
    confirmed_share: int | None = None
    resolve_hours: float | None = None
    customers: int = 0


def _months_back(now: datetime, n: int) -> str:
    year, month = now.year, now.month - (n - 1)
    while month <= 0:
        month += 12
        year -= 1
    return f"{year:04d}-{month:02d}"


def track_record(org: Organization, now: datetime | None = None) -> TrackRecord:
    """The last 12 months (this one included) of the producer's orders, from the dashboard's
    monthly figures (secgo.coordinator.promptness: its on-time and confirmed rules, as the
    push worker's refresh stored them for the "all" scope), plus two indexed queries: the
    customers it delivered to and the median time its issues took to resolve."""
    now = now or utcnow()
    first, last = _months_back(now, TRACK_MONTHS), now.strftime("%Y-%m")
    totals = db.session.execute(select(
        func.coalesce(func.sum(PromptnessRollup.delivered), 0),
        func.coalesce(func.sum(PromptnessRollup.with_due), 0),
        func.coalesce(func.sum(PromptnessRollup.on_time), 0),
        func.coalesce(func.sum(PromptnessRollup.updates), 0),
        func.coalesce(func.sum(PromptnessRollup.confirmed), 0),
    ).where(PromptnessRollup.scope == "all", PromptnessRollup.dim == "producer",
            PromptnessRollup.key == str(org.id), PromptnessRollup.month.between(first, last))).one()
    delivered, with_due, on_time, updates, confirmed = (int(v) for v in totals)
    record = TrackRecord(first, last, delivered, delivered >= MIN_DELIVERED)
    if not record.enough:
        return record
    start = datetime.strptime(first + "-01", "%Y-%m-%d").replace(tzinfo=now.tzinfo)
    record.on_time_share = _share(on_time, with_due)
    record.confirmed_share = _share(confirmed, updates)
    record.customers = db.session.scalar(select(func.count(func.distinct(Order.customer_org_id))).where(
        Order.producer_org_id == org.id, Order.last_activity_at >= start, Order.status == "delivered")) or 0
    seconds = db.session.scalars(select(seconds_between(Issue.created_at, Issue.resolved_at)).where(
        Issue.producer_org_id == org.id, Issue.created_at >= start, Issue.resolved_at.is_not(None))).all()
    median, _p90 = median_p90([float(s) for s in seconds if s is not None])
    record.resolve_hours = None if median is None else round(median / 3600, 1)
    return record


# --- saving a profile ---------------------------------------------------------------------

def _text(data, name, limit, errors, *, required=False) -> str:
    found = {}
    text = clean_text(data.get(name), limit, found, required=required)
    if found:
        errors[name] = found[limit]
    return str(text)


def _codes(value, name, allowed, errors) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > len(allowed):
        errors[name] = BAD_LIST
        return []
    if any(not isinstance(v, str) or v not in allowed for v in value):
        errors[name] = CHOOSE
        return []
    return [c for c in allowed if c in value]  # the list's own order, each once


def _switch(value, name, errors) -> bool:
    if value in (None, "", False, "0", "false", "off"):
        return False
    if value in (True, "1", "true", "on", "y"):
        return True
    errors[name] = BAD_SWITCH
    return False


def _month(value, name, errors):
    if value in (None, "", "0", 0):
        return None
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text.isdecimal() or not 1 <= int(text) <= 12:
        errors[name] = BAD_MONTH
        return None
    return int(text)


def _date(value, name, errors):
    if value in (None, ""):
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = BAD_DATE
        return None


def _rows(value, name, most, errors) -> list[dict]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        errors[name] = BAD_LIST
        return []
    if len(value) > most:
        errors[name] = _l("At most %(n)s.", n=most)
        return []
    return value


def _products(data, errors) -> list[ProfileProduct]:
    products = []
    for i, row in enumerate(_rows(data.get("products"), "products", MAX_PRODUCTS, errors)):
        found: dict = {}
        name = _text(row, "name", "product", found)
        name_en = _text(row, "name_en", "product", found)
        unit = _text(row, "unit", "unit", found)
        capacity = _decimal(row, "monthly_capacity", found, maximum=MAX_CAPACITY)
        season_from = _month(row.get("season_from"), "season_from", found)
        season_to = _month(row.get("season_to"), "season_to", found)
        if not name and not name_en and not unit and capacity is None:
            if found:
                errors.update({f"products.{i}.{k}": v for k, v in found.items()})
            continue  # an empty row of the form
        if not name and not name_en:
            found["name"] = NO_PRODUCT_NAME
        if (season_from is None) != (season_to is None):
            found["season_to" if season_to is None else "season_from"] = BAD_MONTH
        errors.update({f"products.{i}.{k}": v for k, v in found.items()})
        products.append(ProfileProduct(
            position=len(products), name=name or name_en, name_en=name_en, unit=unit,
            monthly_capacity=capacity, season_from=season_from, season_to=season_to,
            search_text=fold(f"{name} {name_en}")))
    return products


def _certifications(data, errors, user, documents) -> list[ProfileCertification]:
    certs = []
    for i, row in enumerate(_rows(data.get("certifications"), "certifications", MAX_CERTIFICATIONS, errors)):
        found: dict = {}
        kind = row.get("kind")
        name = _text(row, "name", "cert_name", found)
        expires = _date(row.get("expires_on"), "expires_on", found)
        if kind in (None, "") and not name and expires is None:
            continue  # an empty row of the form
        if kind not in CERT_KINDS:
            found["kind"] = CHOOSE
        document = None
        doc_id = row.get("document_id")
        if doc_id not in (None, "", 0, "0"):
            doc_id = _id(doc_id) if not isinstance(doc_id, bool) else None
            document = documents.get(doc_id)
            if document is None:
                found["document_id"] = _l("Unknown photo.")
        errors.update({f"certifications.{i}.{k}": v for k, v in found.items()})
        certs.append(ProfileCertification(position=len(certs), kind=kind if kind in CERT_KINDS else "other",
                                          name=name, expires_on=expires, document=document))
    return certs


def _allowed_documents(user, profile) -> dict:
    """Documents (a PDF or a picture) a certification may point to: those already on the
    profile, and any the editing person uploaded (secgo.attachments, secgo.documents)."""
    known = {c.document_id: c.document for c in profile.certifications if c.document_id}
    mine = db.session.scalars(select(Attachment).where(
        Attachment.uploaded_by_id == user.id, Attachment.mime.in_(CERTIFICATE_MIMES))
        .order_by(Attachment.id.desc()).limit(200)).all()
    return {**known, **{a.id: a for a in mine}}


def _photos(user, profile, files, photo_ids, errors) -> list[Attachment]:
    """The profile's photos: those kept (ids already on it, or uploaded by this person) and new
    files, cleaned and stored by the one photo intake."""
    current = {p.id: p for p in profile.photos}
    wanted = [i for i in photo_ids if i not in current]
    if not all(is_id(i) for i in photo_ids):
        errors["photo_ids"] = _l("Unknown photo.")
        return []
    if len(photo_ids) + len(files) > MAX_PHOTOS:
        errors["photos"] = _l("At most %(n)s photos.", n=MAX_PHOTOS)
        return []
    if errors:
        return []  # nothing is stored for a write that is refused anyway
    new = photos_from_request(user, files, wanted)
    kept = [current[i] for i in photo_ids if i in current]
    return kept + [p for p in new if p not in kept]


def _about(data, errors) -> dict:
    """The fields a producer's and a cluster's profile share: descriptions in their language and
    in English, the contact person, the phone (private), languages spoken, export markets."""
    phone_text = _text(data, "contact_phone", "phone", errors)
    phone = normalize_phone(phone_text) if phone_text else ""
    if phone is None:
        errors["contact_phone"] = BAD_PHONE
    return {"description": _text(data, "description", "description", errors),
            "description_en": _text(data, "description_en", "description", errors),
            "contact_name": _text(data, "contact_name", "contact_name", errors),
            "contact_phone": phone or "",
            "contact_languages": ",".join(_codes(data.get("contact_languages"), "contact_languages",
                                                 SPOKEN, errors)),
            "export_markets": ",".join(_codes(data.get("export_markets"), "export_markets", MARKETS, errors))}


def _set_about(profile, about: dict) -> None:
    for name, value in about.items():
        setattr(profile, name, value)


def save_profile(user, org: Organization, data: dict, files=(), photo_ids=()) -> Profile:
    """Replace the profile's fields, products, certifications and photos (a whole PUT)."""
    profile = profile_of(org)
    errors: dict = {}
    about = _about(data, errors)
    capacity_private = _switch(data.get("capacity_private"), "capacity_private", errors)
    show_track_record = _switch(data.get("show_track_record"), "show_track_record", errors)
    products = _products(data, errors)
    certifications = _certifications(data, errors, user, _allowed_documents(user, profile))
    photos = _photos(user, profile, list(files), list(photo_ids), errors)
    if errors:
        raise ApiError(422, fields=errors)
    if profile.org_id is not None and profile not in db.session:
        db.session.add(profile)
    _set_about(profile, about)
    profile.capacity_private, profile.show_track_record = capacity_private, show_track_record
    profile.products = products
    profile.certifications = certifications
    profile.photos = photos
    profile.updated_at, profile.updated_by_id = utcnow(), user.id
    refresh_search_text(profile, org)
    db.session.flush()
    return profile


def refresh_search_text(profile: Profile, org: Organization) -> None:
    """What the directory's words find: names, province, cluster product, products, texts."""
    parts = [org.name, org.province, org.cluster.product if org.cluster else "",
             profile.description, profile.description_en, profile.contact_name]
    parts += [f"{p.name} {p.name_en}" for p in profile.products]
    profile.search_text = fold(" \n".join(p for p in parts if p))


# --- a cluster's profile --------------------------------------------------------------------

def get_cluster(user, cluster_id) -> Cluster:
    """A cluster whose profile the user may see; 404 otherwise."""
    cluster = db.session.get(Cluster, _id(cluster_id)) if _id(cluster_id) else None
    if cluster is None or not can_see_cluster_profile(user, cluster):
        raise ApiError(404)
    return cluster


def editable_cluster(user, cluster_id) -> Cluster:
    """The cluster whose profile the user may edit: 404 when unseen, 403 when only seen."""
    cluster = get_cluster(user, cluster_id)
    if not can_edit_cluster_profile(user, cluster):
        raise ApiError(403)
    return cluster


def cluster_profile_of(cluster: Cluster) -> ClusterProfile:
    """The cluster's profile, an empty unsaved one when it has none yet."""
    return db.session.get(ClusterProfile, cluster.id) or ClusterProfile(
        cluster_id=cluster.id, description="", description_en="", contact_name="", contact_phone="",
        contact_languages="", export_markets="")


def save_cluster_profile(user, cluster: Cluster, data: dict) -> ClusterProfile:
    """Replace a cluster's profile (a whole PUT): the fields a producer's profile has too."""
    errors: dict = {}
    about = _about(data, errors)
    if errors:
        raise ApiError(422, fields=errors)
    profile = cluster_profile_of(cluster)
    if profile not in db.session:
        db.session.add(profile)
    _set_about(profile, about)
    profile.updated_at, profile.updated_by_id = utcnow(), user.id
    db.session.flush()
    return profile


# --- the directory --------------------------------------------------------------------------

@dataclass
class Filters:
    """The directory's search, as asked (cleaned: anything unknown is dropped)."""

    q: str = ""
    country: str = ""
    province: str = ""
    certification: str = ""
    capacity: Decimal | None = None
    cluster: int | None = None  # one cluster's producers: the cluster's own page

    def args(self) -> dict:
        """As query arguments (for the pager's links)."""
        out = {"q": self.q, "country": self.country, "province": self.province,
               "certification": self.certification, "cluster": self.cluster or "",
               "capacity": "" if self.capacity is None else format(self.capacity.normalize(), "f")}
        return {k: v for k, v in out.items() if v}


def parse_filters(args) -> Filters:
    """Filters from query arguments; a value that is not one of the offered ones is ignored,
    a capacity that is not a number is refused (422) so the person knows why nothing changed."""
    q = str(args.get("q") or "").replace("\x00", "").strip()[:LIMITS["q"]]
    country = args.get("country") or ""
    cert = args.get("certification") or ""
    province = str(args.get("province") or "")[:LIMITS["province"]]
    errors: dict = {}
    capacity = _decimal({"capacity": args.get("capacity")}, "capacity", errors, maximum=MAX_CAPACITY)
    if errors:
        raise ApiError(422, fields=errors)
    return Filters(q, country if country in COUNTRIES else "", province,
                   cert if cert in CERT_KINDS else "", capacity, _id(args.get("cluster")))


@dataclass
class DirectoryPage:
    """One page of the directory."""

    items: list  # Profile, with .organization, .products and .certifications loaded
    total: int
    number: int
    pages: int
    filters: Filters


def _like(needle: str) -> str:
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def directory(user, filters: Filters, number: int = 1, today: date | None = None) -> DirectoryPage:
    """Producers matching the filters, by name, a page at a time (six queries, whatever the
    page holds: count, page, clusters, products, certifications, photos)."""
    if not can_use_directory(user):
        raise ApiError(403)
    today = today or utcnow().date()
    where = [Organization.kind == "producer", Organization.active.is_(True)]
    needle = fold(filters.q)
    if needle:
        where.append(Profile.search_text.like(_like(needle), escape="\\"))
    if filters.country:
        where.append(Organization.country == filters.country)
    if filters.province:
        where.append(Organization.province == filters.province)
    if filters.cluster:
        where.append(Organization.cluster_id == filters.cluster)
    if filters.certification:
        where.append(exists().where(
            ProfileCertification.org_id == Profile.org_id, ProfileCertification.kind == filters.certification,
            or_(ProfileCertification.expires_on.is_(None), ProfileCertification.expires_on >= today)))
    if filters.capacity is not None:
        # A capacity the producer keeps private is not searchable either (a search would reveal it).
        product = [ProfileProduct.org_id == Profile.org_id,
                   ProfileProduct.monthly_capacity >= filters.capacity, Profile.capacity_private.is_(False)]
        if needle:
            product.append(ProfileProduct.search_text.like(_like(needle), escape="\\"))
        where.append(exists().where(*product))
    base = select(Profile).join(Profile.organization).where(*where)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number), pages)
    items = db.session.scalars(base.options(
        contains_eager(Profile.organization).selectinload(Organization.cluster), selectinload(Profile.products),
        selectinload(Profile.certifications), selectinload(Profile.photos),
    ).order_by(Organization.name, Organization.id)
        .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)).all() if total else []
    return DirectoryPage(list(items), total, number, pages, filters)


def provinces(country: str = "") -> list[str]:
    """The provinces producers with a profile are in (the directory's choice), by name."""
    stmt = select(Organization.province).join(Profile, Profile.org_id == Organization.id).where(
        Organization.kind == "producer", Organization.active.is_(True), Organization.province != "")
    if country:
        stmt = stmt.where(Organization.country == country)
    return sorted(set(db.session.scalars(stmt.distinct())))


# --- enquiries ------------------------------------------------------------------------------

def get_enquiry(user, enquiry_id) -> Enquiry:
    """An enquiry the user may see; 404 otherwise (never a hint that it exists)."""
    found = db.session.scalar(select(Enquiry).where(
        Enquiry.id == _id(enquiry_id), visible_enquiries_clause(user)).options(
        selectinload(Enquiry.messages).selectinload(EnquiryMessage.author))) if _id(enquiry_id) else None
    if found is None:
        raise ApiError(404)
    return found


def list_enquiries(user, limit: int = 50, offset: int = 0) -> tuple[list[Enquiry], int]:
    """The enquiries the user may see, newest activity first, and how many there are."""
    where = visible_enquiries_clause(user)
    total = db.session.scalar(select(func.count()).select_from(Enquiry).where(where)) or 0
    items = db.session.scalars(select(Enquiry).where(where).options(
        selectinload(Enquiry.producer_org), selectinload(Enquiry.customer_org))
        .order_by(Enquiry.updated_at.desc(), Enquiry.id.desc()).limit(limit).offset(offset)).all()
    return list(items), total


def _url(enquiry) -> str:
    return f"/enquiries/{enquiry.id}"


def create_enquiry(user, producer: Organization, data: dict) -> Enquiry:
    """A buyer's first message to a producer (text, product, quantity); the producer's people
    and its coordinators hear of it."""
    if user.role != "customer" or user.organization_id is None:
        raise ApiError(403, NOT_A_BUYER)
    errors: dict = {}
    body = _text(data, "body", "body", errors, required=True)
    product = _text(data, "product", "product", errors)
    unit = _text(data, "unit", "unit", errors)
    quantity = _decimal(data, "quantity", errors, maximum=MAX_CAPACITY, positive=True)
    if errors:
        raise ApiError(422, fields=errors)
    now = utcnow()
    enquiry = Enquiry(producer_org=producer, customer_org_id=user.organization_id, created_by_id=user.id,
                      product=product, quantity=quantity, unit=unit, created_at=now, updated_at=now)
    enquiry.messages.append(EnquiryMessage(author_id=user.id, body=body, created_at=now))
    db.session.add(enquiry)
    db.session.flush()
    _tell("enquiry", enquiry, user)
    return enquiry


def reply(user, enquiry: Enquiry, data: dict) -> EnquiryMessage:
    """A message in an enquiry's thread, by anyone who may see it; the others hear of it."""
    errors: dict = {}
    body = _text(data, "body", "body", errors, required=True)
    if errors:
        raise ApiError(422, fields=errors)
    now = utcnow()
    message = EnquiryMessage(enquiry=enquiry, author_id=user.id, body=body, created_at=now)
    enquiry.updated_at = now
    db.session.add(message)
    db.session.flush()
    _tell("enquiry_reply", enquiry, user)
    return message


def _tell(event: str, enquiry: Enquiry, author) -> None:
    others = [u for u in enquiry_audience(enquiry) if u.id != author.id]
    enqueue(event, others, url=_url(enquiry),
            params={"buyer": enquiry.customer_org.name, "producer": enquiry.producer_org.name,
                    "product": enquiry.product})


def shows_attachment(user, attachment_id: int) -> bool:
    """True when the picture is a photo or certificate on a profile the user may see."""
    from ..models.profile import profile_photos

    photo = select(profile_photos.c.org_id).where(profile_photos.c.attachment_id == attachment_id)
    document = select(ProfileCertification.org_id).where(ProfileCertification.document_id == attachment_id)
    orgs = db.session.scalars(select(Organization).where(
        Organization.id.in_(photo.union(document)), Organization.active.is_(True))).all()
    return any(can_see_profile(user, org) for org in orgs)
