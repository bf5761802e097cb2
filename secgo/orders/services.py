"""Order rules: creating, listing, status updates, confirmations, deliveries, tracking links.

Pages, the JSON API and tracking links call these; they only flush, the caller commits.
"""
import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone
from sqlalchemy import Integer, bindparam, func, literal_column, select, table
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.orm import joinedload, load_only, selectinload

from .. import counting, notify, phrases, readmarks
from . import handover
from ..authz import (order_audience, order_side, sees_one_organization, stand_in, stand_in_binds,
                     visible_orders_clause)
from ..audit.services import record
from ..counting import count_statement, count_up_to, page_count, total_and_more_from, total_from
from ..errors import ApiError
from ..extensions import db
from ..i18n import fold
from ..ids import MAX_ID
from ..limits import LIMITS, REQUIRED, clean_text, event_time
from ..models.base import UTCDateTime
from ..models.order import ORDERS_SEARCH, normalize_reference
from ..models import (
    BORDER_CROSSINGS,
    CONDITIONS,
    CURRENCIES,
    STATUSES,
    UPDATE_KINDS,
    DeliveryConfirmation,
    Issue,
    Order,
    Organization,
    StatusUpdate,
    TrackingLink,
    hash_token,
    new_token,
    utcnow,
)

# No 0/O, 1/I/L or U/V look-alikes: references are read aloud on the phone and typed by hand.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
REFERENCE_LENGTH = 6
MAX_QUANTITY = Decimal(99999999999)
MAX_VALUE = Decimal(99999999999999)
PRODUCER_SIDES = ("producer", "coordinator", "admin")
CUSTOMER_SIDES = ("customer", "admin")
PER_PAGE = 20
TRACKING_DAYS = 30
MAX_TRACKING_DAYS = 180


# --- validation helpers -------------------------------------------------------------------

def _invalid(fields):
    raise ApiError(422, fields=fields)


def _text(data, name, fields, *, required=False):
    return clean_text(data.get(name), name, fields, required=required)


PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")  # any script's digits (Decimal reads them)
NOT_PLAIN_NUMBER = _l("Write the number with digits only, for example 1500 or 12.5.")


def _decimal(data, name, fields, *, required=False, maximum, minimum=Decimal(0), positive=False):
    value = data.get(name)
    if value is None or value == "":
        if required:
            fields[name] = REQUIRED
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        fields[name] = _("Expected a number.")
        return None
    if isinstance(value, str) and not PLAIN_NUMBER.fullmatch(value.strip().replace(",", "")):
        # Decimal() would take "1e3", "inf" and "nan": a person means digits, or a typo.
        fields[name] = NOT_PLAIN_NUMBER
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        fields[name] = _("Expected a number.")
        return None
    if not number.is_finite() or number > maximum or number < minimum or (positive and number <= 0):
        fields[name] = _("This number is out of range.")
        return None
    if number.as_tuple().exponent < -3:
        fields[name] = _("At most 3 decimal places.")
        return None
    return number


def _choice(data, name, allowed, fields, *, required=False):
    value = data.get(name)
    if value is None or value == "":
        if required:
            fields[name] = _("Please choose one.")
        return None
    if not isinstance(value, str) or value not in allowed:
        fields[name] = _("Please choose one of the offered values.")
        return None
    return value


def _int(data, name, fields, *, required=False):
    value = data.get(name)
    if value is None or value == "":
        if required:
            fields[name] = _("Please choose one.")
        return None
    if isinstance(value, bool):
        fields[name] = _("Expected a number.")
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        fields[name] = _("Expected a number.")
        return None
    if abs(number) > MAX_ID:  # no row has it, and the database cannot even be asked
        fields[name] = _("This number is out of range.")
        return None
    return number


def _date(data, name, fields):
    value = data.get(name)
    if value is None or value == "":
        return None
    try:
        parsed = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or not (2000 <= parsed.year <= 2100):
        fields[name] = _("Expected a date (YYYY-MM-DD).")
    return parsed


def _datetime(data, name, fields):
    """Device time of an event, as sent (limits.event_time decides what is believed)."""
    value = data.get(name)
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        fields[name] = _("Expected a date and time.")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _coordinate(data, name, fields, limit):
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        fields[name] = _("Expected a number.")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        fields[name] = _("Expected a number.")
        return None
    if not -limit <= number <= limit:
        fields[name] = _("This number is out of range.")
        return None
    return round(number, 6)


# --- creating orders ------------------------------------------------------------------------

def new_reference() -> str:
    """A fresh human-friendly reference such as SEC-7K3F9Q that no order has yet."""
    while True:
        ref = "SEC-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _i in range(REFERENCE_LENGTH))
        if db.session.scalar(select(Order.id).where(Order.reference == ref)) is None:
            return ref


def counterpart_choices(actor) -> dict[str, list[Organization]]:
    """Organizations the actor may choose when creating an order, by the field they go in
    (active ones only: a deactivated organization keeps its history and takes no new order)."""
    active = Organization.active.is_(True)
    producers = select(Organization).where(Organization.kind == "producer", active).order_by(Organization.name)
    customers = select(Organization).where(Organization.kind == "customer", active).order_by(Organization.name)
    if actor.role == "producer":
        return {"customer_org_id": list(db.session.scalars(customers))}
    if actor.role == "customer":
        return {"producer_org_id": list(db.session.scalars(producers))}
    if actor.role == "coordinator":
        producers = producers.where(
            Organization.cluster_id.in_([c.id for c in actor.clusters] or [-1])
        )
    return {"producer_org_id": list(db.session.scalars(producers)),
            "customer_org_id": list(db.session.scalars(customers))}


def refresh_search_text(order: Order) -> None:
    """Rebuild what search matches: reference, product, organizations, places and every note."""
    parts = [order.reference, order.product, order.producer_org.name, order.customer_org.name,
             order.origin, order.destination, order.notes or ""]
    parts += [u.note for u in order.updates if u.note]
    order.search_text = fold(" \n".join(parts))


def create_order(actor, data: dict, *, client_id=None) -> Order:
    """Create an order between the actor's organization and the chosen counterpart."""
    if actor.role in ("producer", "customer") and actor.organization_id is None:
        raise ApiError(403)
    fields: dict = {}
    choices = counterpart_choices(actor)
    orgs = {}
    for name in ("producer_org_id", "customer_org_id"):
        if name in choices:
            org_id = _int(data, name, fields, required=True)
            org = next((o for o in choices[name] if o.id == org_id), None)
            if org_id is not None and org is None:
                fields[name] = _("Please choose one of the offered values.")
            orgs[name] = org
    producer = orgs.get("producer_org_id") or (actor.organization if actor.role == "producer" else None)
    customer = orgs.get("customer_org_id") or (actor.organization if actor.role == "customer" else None)
    product = _text(data, "product", fields, required=True)
    unit = _text(data, "unit", fields, required=True)
    origin = _text(data, "origin", fields, required=True)
    destination = _text(data, "destination", fields, required=True)
    notes = _text(data, "notes", fields)
    quantity = _decimal(data, "quantity", fields, required=True, maximum=MAX_QUANTITY, positive=True)
    value = _decimal(data, "value", fields, maximum=MAX_VALUE)
    currency = _choice(data, "currency", CURRENCIES, fields, required=value is not None)
    border = _choice(data, "border_crossing", BORDER_CROSSINGS, fields)
    due = _date(data, "due_date", fields)
    if fields:
        _invalid(fields)
    now = utcnow()
    order = Order(
        reference=new_reference(), producer_org=producer, customer_org=customer,
        product=str(product), quantity=quantity, unit=str(unit), value=value,
        currency=currency if value is not None else None, origin=str(origin),
        destination=str(destination), border_crossing=border, due_date=due, status="accepted",
        notes=str(notes), created_by=actor, client_id=client_id, created_at=now,
        last_activity_at=now, handover_code=handover.new_code(),  # (never written by a page)
    )
    db.session.add(order)
    db.session.flush()
    refresh_search_text(order)
    if border:  # the crossing's checklist: what the dashboard will miss once it is on its way
        from ..documents.services import refresh_missing

        refresh_missing(order)
    # A first or repeat order between a pair matched at a business-matching event moves
    # their match on, in this transaction (so exactly once with the order, by its client_id).
    from ..matching.services import order_placed

    order_placed(order)
    return order


# The currency of each country's own trade; a last order's currency is a better guess.
COUNTRY_CURRENCIES = {"KH": "KHR", "LA": "LAK", "MM": "MMK", "TH": "THB", "VN": "VND"}


def new_order_defaults(actor) -> dict[str, str]:
    """What the new-order form can guess: the organization's last order's places, unit and
    currency, else its own province and country as the origin (producer) or destination
    (customer) and its country's currency. Nothing for people without an organization."""
    org = actor.organization
    if org is None:
        return {}
    last = db.session.scalar(
        select(Order).where((Order.producer_org_id == org.id) | (Order.customer_org_id == org.id))
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(1)
    )
    if last is not None:
        return {"origin": last.origin, "destination": last.destination, "unit": last.unit,
                "currency": last.currency or COUNTRY_CURRENCIES.get(org.country, "")}
    from ..i18n import COUNTRY_LABELS

    country = COUNTRY_LABELS.get(org.country)
    home = ", ".join(str(part) for part in (org.province, country) if part)
    side = "origin" if org.kind == "producer" else "destination"
    return {side: home, "currency": COUNTRY_CURRENCIES.get(org.country, "")}


# --- finding and listing ------------------------------------------------------------------

@cache  # the same for everyone: built once (every list of orders selects it)
def awaiting_count_expr():
    """Correlated count of an order's updates that wait for the customer's confirmation."""
    return (
        select(func.count(StatusUpdate.id))
        .where(StatusUpdate.order_id == Order.id, StatusUpdate.awaiting_confirmation)
        .correlate(Order)
        .scalar_subquery()
    )


@cache  # as awaiting_count_expr
def open_issues_expr():
    """Correlated count of an order's open issues (Issue.is_open)."""
    return (
        select(func.count(Issue.id))
        .where(Issue.order_id == Order.id, Issue.is_open)
        .correlate(Order)
        .scalar_subquery()
    )


def today(now: datetime | None = None) -> date:
    """Today in the viewer's time zone (UTC outside a request): the day "overdue" is judged on."""
    now = now or utcnow()
    return to_user_timezone(now).date() if has_request_context() else now.astimezone(UTC).date()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# A search on SQLite with more matches than this walks the person's orders newest first and
# looks each up in the matches; with fewer, it reads the matches and sorts them.
FEW_MATCHES = 1000


def _needle(q: str | None) -> str:
    return fold((q or "").replace("\x00", "").strip())[:LIMITS["q"]]  # PostgreSQL refuses NUL


def _trigram_matches(needle: str):
    """The rowids of the orders whose search text contains the needle, from SQLite's trigram
    index (models.order.ORDERS_SEARCH) as a phrase (exact for three characters or more); None
    when that index cannot answer."""
    if len(needle) < 3 or db.session.get_bind().dialect.name != "sqlite":
        return None
    phrase = '"' + needle.replace('"', '""') + '"'
    return (select(literal_column("rowid")).select_from(table(ORDERS_SEARCH))
            .where(literal_column(ORDERS_SEARCH).op("MATCH")(phrase)))


def _walk(actor, q: str | None) -> bool:
    """Whether a search walks the person's orders newest first and tests each, rather than
    reading the word's matches first: when the person sees one organization's orders (fewer
    than a common word matches in the corridor), or, on SQLite, when the word matches more
    than FEW_MATCHES orders (counted on the trigram index alone: one cheap read)."""
    if not q:
        return False
    if sees_one_organization(actor):
        return True
    matches = _trigram_matches(_needle(q))
    return matches is not None and count_up_to(matches, FEW_MATCHES + 1) > FEW_MATCHES


def _contains(needle: str, walk: bool = False):
    """SQL: the order's search text contains the folded needle; on SQLite through the trigram
    index, a shorter needle reads every order. walk: the search index is kept from driving
    the query (`orders.id + 0` on SQLite, `search_text || ''` on PostgreSQL), so the query
    walks an index of the person's orders in activity order and stops at the page's end."""
    matches = _trigram_matches(needle)
    if matches is not None:
        return ((Order.id + 0) if walk else Order.id).in_(matches)
    text = Order.search_text.concat("") if walk else Order.search_text
    return text.like(f"%{_like_escape(needle)}%", escape="\\")


def orders_query(actor, *, status=None, q=None, awaiting=False, walk=False, news_floor=None):
    """SELECT (Order, awaiting count, open issues, news for the actor) of what the actor sees,
    newest activity first (walk: see _contains; status may be a bind; news_floor: the actor's
    floor as SQL, readmarks.floor(actor) when not given)."""
    awaiting_expr = awaiting_count_expr()
    issues_expr = open_issues_expr()
    stmt = select(Order, awaiting_expr.label("awaiting"), issues_expr.label("open_issues"),
                  readmarks.unread_expr(actor, "order", low=news_floor).label("unread")).where(
        visible_orders_clause(actor)
    )
    if status in STATUSES or isinstance(status, BindParameter):
        stmt = stmt.where(Order.status == status)
    elif status == "open":
        stmt = stmt.where(~Order.is_final)
    if q:
        needle = _needle(q)
        if needle:
            stmt = stmt.where(_contains(needle, walk))
    if awaiting:
        stmt = stmt.where(awaiting_expr > 0)
    return stmt


@dataclass
class Row:
    order: Order
    awaiting: int
    open_issues: int
    unread: bool = False  # news since the actor last opened it (secgo.readmarks)


@dataclass
class Page:
    rows: list
    total: int  # counted up to secgo.counting.COUNT_AHEAD past the page: then more is true
    page: int
    per_page: int
    more: bool = False
    tab_counts: dict | None = None  # the tab bar's numbers, when asked for with the list (list_orders)

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page, self.page, self.more)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# What a list loads of each order: an API item (secgo.api.orders.order_json) every column and
# its two organizations; the list page (templates/orders/_row.html) only the columns below
# and the organizations' names (and the version its rows are kept by).
ITEM = (joinedload(Order.producer_org), joinedload(Order.customer_org))
LIST_ITEM = (
    load_only(Order.reference, Order.product, Order.quantity, Order.unit, Order.due_date, Order.status,
              Order.producer_org_id, Order.customer_org_id, Order.data_version),
    joinedload(Order.producer_org).load_only(Organization.name),
    joinedload(Order.customer_org).load_only(Organization.name),
)


# (role, which status filter, awaiting, load) -> the statements of a list without a search
# (its page of rows, its count, its count with the person's tab counts), the person, status
# and page in them as binds: built once per process (building and keying them took longer
# than the database runs them).
_LISTS: dict = {}
NEWEST = (Order.last_activity_at.desc(), Order.id.desc())


def _list_statements(role: str, status, awaiting: bool, load) -> tuple:
    which = "one" if status in STATUSES else "open" if status == "open" else None
    key = (role, which, awaiting, load)
    found = _LISTS.get(key)
    if found is None:
        stmt = orders_query(stand_in(role, "list"), status=bindparam("list_status") if which == "one" else which,
                            awaiting=awaiting, news_floor=bindparam("list_floor", type_=UTCDateTime()))
        counted = count_statement(stmt.with_only_columns(Order.id))
        rows = (stmt.options(*load).order_by(*NEWEST).limit(bindparam("list_per_page", type_=Integer))
                .offset(bindparam("list_skip", type_=Integer)))
        # The page's rows with its count (and tab counts) beside them: subqueries that refer
        # to no row, which both databases run once for the statement, in the same round trip.
        with_count = rows.add_columns(counted.scalar_subquery())
        found = _LISTS[key] = (
            rows,
            counted,
            counted.add_columns(*readmarks.tab_count_columns(role)),
            with_count,
            with_count.add_columns(*readmarks.tab_count_columns(role)),
        )
    return found


def _page_of(rows, total: int, page: int, per_page: int, more: bool = False) -> Page:
    """A Page of (Order, awaiting, open issues, unread, ...) rows."""
    return Page([Row(r[0], r[1], r[2], bool(r.unread)) for r in rows], total, page, per_page, more)


def _last_page_at_most(page: int, total: int, per_page: int) -> int:
    """The page asked for, or the last one when it is past it."""
    return max(1, min(page, max(1, -(-total // per_page))))


def list_orders(actor, *, status=None, q=None, awaiting=False, page=1, per_page=PER_PAGE,
                load=ITEM, tab_counts=False) -> Page:
    """One page of the actor's orders: one query whatever the number of orders (its count read
    beside its rows; two for an empty list, three past the last page; two or three for a search),
    the count stopping a thousand rows past the page (secgo.counting);
    load: what is loaded of each (ITEM, or the list page's LIST_ITEM); tab_counts: the page's
    tab_counts read too (readmarks.tab_counts), with the count when it can be (no search)."""
    if not q and actor is not None and actor.is_authenticated:
        rows_stmt, count_stmt, with_tabs, rows_counted, rows_tabs = _list_statements(
            actor.role, status, awaiting, load)
        binds = {**stand_in_binds(actor, "list"), "list_status": status, "list_floor": readmarks.floor(actor)}
        offset, tabs = (max(1, page) - 1) * per_page, None
        if tab_counts:
            binds.update(readmarks.tab_binds(actor))
        # The page asked for, counted in the same statement: one statement when it has rows.
        limit = offset + counting.COUNT_AHEAD
        rows = db.session.execute(rows_tabs if tab_counts else rows_counted, {
            **binds, "list_per_page": per_page, "list_skip": offset, "count_limit": limit + 1}).all()
        if rows:
            counted = rows[0][-3 if tab_counts else -1]  # (the count, then the two tab counts)
            found = _page_of(rows, min(counted, limit), max(1, page), per_page, counted > limit)
            found.tab_counts = readmarks.tab_numbers(rows[0][-2:]) if tab_counts else None
            return found
        # No rows: a list that is empty, or a page past its last: counted first, then its last page.
        if tab_counts:
            total, more, counts = total_and_more_from(with_tabs, offset, binds)
            tabs = readmarks.tab_numbers(counts)
        else:
            total, more = total_from(count_stmt, offset, binds)
        last = _last_page_at_most(page, total, per_page)
        if last != max(1, page):  # (the page asked for was read above: empty)
            rows = db.session.execute(rows_stmt, {**binds, "list_per_page": per_page,
                                                  "list_skip": (last - 1) * per_page}).all()
        found = _page_of(rows, total, last, per_page, more)
        found.tab_counts = tabs
        return found
    walk = _walk(actor, q)
    stmt = orders_query(actor, status=status, q=q, awaiting=awaiting, walk=walk)
    if q and not walk and db.engine.dialect.name == "sqlite":
        # A search with few matches on SQLite, by an admin or coordinator: the matches are
        # read once, and the same pass counts them (count(*) OVER ()) instead of a second
        # reading for the total.
        # Only the narrow (id, total) rows are sorted; the page's orders are read after.
        ids = (
            select(Order.id, func.count().over().label("total")).where(stmt.whereclause)
            .order_by(*NEWEST).limit(per_page).offset((max(1, page) - 1) * per_page)
            .subquery()
        )
        # The page's rows are the ids found: the search is not run a second time for them.
        rows = db.session.execute(
            orders_query(actor).add_columns(ids.c.total).join(ids, ids.c.id == Order.id)
            .options(*load).order_by(*NEWEST)
        ).all()
        if rows or page <= 1:
            total = rows[0].total if rows else 0
            return _page_of(rows, total, max(1, page), per_page)
        # A page past the last one: count, then show the last page.
    total, more = total_from(stmt.with_only_columns(Order.id), (max(1, page) - 1) * per_page)
    page = _last_page_at_most(page, total, per_page)
    rows = db.session.execute(
        stmt.options(*load).order_by(*NEWEST).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return _page_of(rows, total, page, per_page, more)


def find_visible_order(actor, reference) -> Order | None:
    """The order with this reference if the actor may see it; None otherwise."""
    reference = normalize_reference(reference)
    if reference is None or actor is None or not actor.is_authenticated:
        return None
    return db.session.scalar(_visible_order_statement(actor.role),
                             {**stand_in_binds(actor, "one"), "one_reference": reference})


@cache  # per role, built once per process (as _list_statements)
def _visible_order_statement(role: str):
    who = stand_in(role, "one")
    return (select(Order).where(Order.reference == bindparam("one_reference"), visible_orders_clause(who))
            .options(joinedload(Order.producer_org), joinedload(Order.customer_org)))


def get_order(actor, reference: str) -> Order:
    """The order with this reference if the actor may see it; 404 otherwise (pages, API, issues)."""
    order = find_visible_order(actor, reference)
    if order is None:
        raise ApiError(404)
    return order


def side_of(actor, order) -> str:
    """The actor's side of a visible order (404 if none)."""
    side = order_side(actor, order)
    if side is None:
        raise ApiError(404)
    return side


# --- status updates ------------------------------------------------------------------------

def allowed_statuses(order: Order, side: str | None) -> list[str]:
    """Status codes this side may post now: later steps (skipping allowed) or cancelled; none once final."""
    if side not in PRODUCER_SIDES or order.is_final:
        return []
    current = STATUSES.index(order.status) if order.status in STATUSES else 0
    later = [s for s in STATUSES[current + 1:] if s != "cancelled"]
    return later + ["cancelled"]


def likely_next(order: Order, side: str | None) -> list[str]:
    """The two or three statuses a producer most likely taps next (big buttons)."""
    allowed = [s for s in allowed_statuses(order, side) if s != "cancelled"]
    return allowed[:3]


def validate_update(data: dict) -> dict:
    """Check the fields of a status update; raise 422 with per-field messages."""
    fields: dict = {}
    status = _choice(data, "status", UPDATE_KINDS, fields, required=True)
    note = _text(data, "note", fields)
    occurred = _datetime(data, "occurred_at", fields)
    lat = _coordinate(data, "latitude", fields, 90)
    lon = _coordinate(data, "longitude", fields, 180)
    if (lat is None) != (lon is None) and "latitude" not in fields and "longitude" not in fields:
        fields["latitude"] = _("Give both latitude and longitude, or neither.")
    corrects = _int(data, "corrects_id", fields)
    if fields:
        _invalid(fields)
    return {"status": status, "note": note, "occurred_at": occurred, "latitude": lat,
            "longitude": lon, "corrects_id": corrects}


def post_update(actor, order: Order, data: dict, photos=(), *, client_id=None,
                voice=None, ask_papers=False) -> StatusUpdate:
    """Add a status update or a note (or a correction of an earlier update) to an order.
    ask_papers (a plain form): a dispatch or border report with papers missing is asked
    about once (secgo.documents.services.check_before_report); it is never refused for it."""
    side = side_of(actor, order)
    clean = validate_update(data)
    said = phrases.read(data, phrases.UPDATE, unit=order.unit)
    status = clean["status"]
    corrects = None
    if clean["corrects_id"] is not None:
        corrects = db.session.get(StatusUpdate, clean["corrects_id"])
        if corrects is None or corrects.order_id != order.id:
            _invalid({"corrects_id": _("Unknown update.")})
        if corrects.author_id != actor.id and side != "admin":
            raise ApiError(403, _l("Only the author of an update can correct it."))
        if not clean["note"]:
            _invalid({"note": _("Say what was wrong: a correction needs a reason.")})
    reopens = corrects is not None and order.status == "cancelled" and status not in ("note", "cancelled")
    if status != "note":
        if side not in PRODUCER_SIDES:
            raise ApiError(403, _l("Only the producer side reports the status of an order."))
        if corrects is not None:
            if db.session.scalar(select(DeliveryConfirmation.id).where(
                    DeliveryConfirmation.order_id == order.id)) is not None:
                raise ApiError(409, _l("Delivery was confirmed; add a note instead."))
            if reopens:
                _check_reopening(order, corrects, side)
        elif order.is_final:
            raise ApiError(409, _l("This order is finished; you can still add a note."),
                           fields={"status": _("This order is finished; you can still add a note.")})
        elif status not in allowed_statuses(order, side):
            message = _("This status cannot follow %(current)s.", current=_status_label(order.status))
            raise ApiError(409, message, fields={"status": message})
        else:
            from ..documents.services import check_before_report

            check_before_report(order, status, data, ask=ask_papers)
    now = utcnow()
    update = StatusUpdate(
        order=order, status=status, note=str(clean["note"]), note_original=clean["note"].original,
        latitude=clean["latitude"], longitude=clean["longitude"],
        occurred_at=event_time(clean["occurred_at"], now, order.created_at)[0], recorded_at=now, author=actor,
        client_id=client_id, corrects=corrects, phrases=said or None,
    )
    update.photos = list(photos)
    update.voice = voice
    db.session.add(update)
    if status != "note":
        order.status = status
    order.last_activity_at = now
    _add_search_text(order, update.note, said)
    db.session.flush()  # one UPDATE of the order: status, activity and search text
    if reopens:  # everyone on the order hears that the cancellation no longer holds
        recipients = [u for u in order_audience(order) if u.id != actor.id]
    elif status != "note" or side in PRODUCER_SIDES:
        recipients = [u for u in order_audience(order, ("customer", "coordinator")) if u.id != actor.id]
    else:
        recipients = [u for u in order_audience(order, ("producer", "coordinator")) if u.id != actor.id]
    params = {"reference": order.reference, "status": status, "correction": corrects is not None}
    if said:
        params["phrases"] = said
    if reopens:
        params["reopened"] = True
    notify.enqueue(
        "status_update", recipients, url=url_for("orders.detail", reference=order.reference),
        order=order, params=params,
    )
    return update


def papers_warning(order: Order, update: StatusUpdate) -> dict:
    """For a dispatch or border report sent with papers missing: the missing types and the
    warning, added to the write's answer (the report is stored all the same)."""
    from ..documents.services import CHECKED_STATUSES, missing_types, missing_warning

    if update.status not in CHECKED_STATUSES or update.corrects_id is not None:
        return {}
    missing = missing_types(order)
    return {"missing_documents": missing, "warning": missing_warning(missing)} if missing else {}


def reopens_order(update: StatusUpdate) -> bool:
    """True for a correction that withdrew a cancellation (the order went on)."""
    corrects = update.corrects
    return (corrects is not None and corrects.status == "cancelled"
            and update.status not in ("note", "cancelled"))


def _check_reopening(order: Order, corrects: StatusUpdate, side: str) -> None:
    """A cancelled order goes on only through a correction of its cancellation, with a reason
    (checked by the caller); once the customer confirmed the cancellation, only an admin may."""
    cancellation = db.session.scalar(
        select(StatusUpdate).where(StatusUpdate.order_id == order.id, StatusUpdate.status == "cancelled")
        .order_by(StatusUpdate.id.desc()).limit(1)
    )
    if cancellation is None or corrects.id != cancellation.id:
        message = _("This order was cancelled: to go on with it, correct the cancellation itself.")
        raise ApiError(409, message, fields={"status": message}, code="correct_the_cancellation")
    if cancellation.confirmed_at is not None and side != "admin":
        message = _("The customer confirmed the cancellation, so it stands. Create a new order instead.")
        raise ApiError(409, message, fields={"status": message}, code="cancellation_confirmed")


def _status_label(code):
    from ..i18n import STATUS_LABELS

    return str(STATUS_LABELS.get(code, code))


def get_update(actor, update_id) -> StatusUpdate:
    """A status update on an order the actor may see; 404 otherwise."""
    update = db.session.get(StatusUpdate, update_id) if isinstance(update_id, int) else None
    if update is None or order_side(actor, update.order) is None:
        raise ApiError(404)
    return update


def _add_search_text(order: Order, text, said=()) -> None:
    """What search finds on an order: typed text folded, and quick phrases in every language."""
    words = " ".join(w for w in (str(text or ""), phrases.search_words(said) if said else "") if w)
    if words:
        order.search_text = (order.search_text or "") + " \n" + fold(words)


def _check_confirmer(actor, order: Order) -> None:
    if side_of(actor, order) not in CUSTOMER_SIDES:
        raise ApiError(403, _l("Only the customer confirms updates."))


def _confirm_one(actor, update: StatusUpdate, now, comment="") -> None:
    update.confirmed_by = actor
    update.confirmed_at = now
    update.confirm_comment = str(comment) or None
    update.order.last_activity_at = now


def _tell_producer(actor, order: Order, confirmed: list) -> None:
    recipients = [u for u in order_audience(order, ("producer",)) if u.id != actor.id]
    params = {"reference": order.reference, "status": confirmed[-1].status}
    if len(confirmed) > 1:
        params["count"] = len(confirmed)
    notify.enqueue("confirmation", recipients, url=url_for("orders.detail", reference=order.reference),
                   order=order, params=params)


def confirm_update(actor, update: StatusUpdate, data: dict) -> StatusUpdate:
    """The customer confirms a status update, with an optional comment; the producer is told."""
    order = update.order
    _check_confirmer(actor, order)
    fields: dict = {}
    comment = _text(data, "comment", fields)
    if fields:
        _invalid(fields)
    if update.status == "note":
        raise ApiError(409, _l("Notes need no confirmation."))
    if not update.awaiting_confirmation:
        raise ApiError(409, _l("This update is already confirmed."), code="already_confirmed")
    _confirm_one(actor, update, utcnow(), comment)
    _add_search_text(order, comment)
    db.session.flush()
    _tell_producer(actor, order, [update])
    return update


MAX_BATCH = 100  # updates confirmed at once (the awaiting page shows at most 100)


def form_ids(text) -> list | str:
    """A form's update_ids ("12,13 14") as a list of numbers, or as sent when it is not one."""
    parts = text.replace(",", " ").split() if isinstance(text, str) else []
    if not parts or not all(p.isdecimal() and len(p) <= 10 for p in parts):
        return text
    return [int(p) for p in parts]


def _batch_ids(value) -> list[int]:
    """update_ids: a list of record numbers (at most MAX_BATCH); a 422 for anything else."""
    from ..ids import id_list

    ids = id_list(value, "update_ids", MAX_BATCH)
    if not ids:
        _invalid({"update_ids": _("Choose the updates to confirm.")})
    return list(dict.fromkeys(ids))


def confirm_updates(actor, data: dict) -> tuple[list, list]:
    """The customer confirms several status updates at once (those the page showed): returns
    (confirmed now, confirmed before). All or nothing: an update the actor may not see or
    confirm refuses the whole batch; each order's producer is told once."""
    ids = _batch_ids(data.get("update_ids"))
    updates = list(db.session.scalars(
        select(StatusUpdate).join(Order, StatusUpdate.order_id == Order.id)
        .where(StatusUpdate.id.in_(ids), visible_orders_clause(actor))
        .options(joinedload(StatusUpdate.order)).order_by(StatusUpdate.id)
    ))
    if len(updates) != len(ids):  # the same answer for a missing and an unseen update
        _invalid({"update_ids": _("Unknown update.")})
    if any(u.status == "note" for u in updates):
        _invalid({"update_ids": _("Notes need no confirmation.")})
    for order in {u.order_id: u.order for u in updates}.values():
        _check_confirmer(actor, order)
    now = utcnow()
    fresh = [u for u in updates if u.awaiting_confirmation]
    for update in fresh:
        _confirm_one(actor, update, now)
    db.session.flush()
    by_order: dict[int, list] = {}
    for update in fresh:
        by_order.setdefault(update.order_id, []).append(update)
    for confirmed in by_order.values():
        _tell_producer(actor, confirmed[0].order, confirmed)
    return fresh, [u for u in updates if u not in fresh]


def awaiting_updates(actor, limit=100) -> list[StatusUpdate]:
    """Updates on the actor's orders that still wait for the customer's confirmation."""
    return list(db.session.scalars(
        select(StatusUpdate).join(Order, StatusUpdate.order_id == Order.id)
        .where(visible_orders_clause(actor), StatusUpdate.awaiting_confirmation)
        .options(joinedload(StatusUpdate.order).joinedload(Order.producer_org),
                 joinedload(StatusUpdate.author), selectinload(StatusUpdate.photos))
        .order_by(StatusUpdate.recorded_at.desc(), StatusUpdate.id.desc()).limit(limit)
    ))


# --- delivery -------------------------------------------------------------------------------

ISSUE_FOR_CONDITION = {
    "damaged": ("quality", "high"),
    "wrong_item": ("quality", "high"),
    "short": ("quantity", "medium"),
}


ISSUE_WILL_OPEN = _l("An issue will be opened for the producer and the coordinator. "
                     "Check what you entered and confirm again.")


def validate_delivery(data: dict, order: Order) -> dict:
    """Check the fields of a delivery confirmation. Less than ordered is a short delivery,
    whatever condition was left chosen; "Short" with the full quantity is refused."""
    fields: dict = {}
    received = _decimal(data, "received_quantity", fields, required=True, maximum=MAX_QUANTITY)
    condition = _choice(data, "condition", CONDITIONS, fields, required=True)
    note = _text(data, "note", fields)
    if received is not None and condition is not None:
        if condition == "good" and received < order.quantity:
            condition = "short"  # "Good" is how the goods look; fewer arrived all the same
        elif condition == "short" and received >= order.quantity:
            fields["received_quantity"] = _("You chose “Short”: enter the quantity that arrived.")
    if fields:
        _invalid(fields)
    said = phrases.read(data, phrases.DELIVERY, unit=order.unit)
    return {"received_quantity": received, "condition": condition, "note": note, "phrases": said}


def opens_issue(order: Order, condition: str, received) -> bool:
    """Anything but a full, good delivery opens an issue."""
    return condition != "good" or received < order.quantity


def confirm_delivery(actor, order: Order, data: dict, photos=(), *, client_id=None,
                     label=None, ask=False, voice=None, signature=None,
                     document=None) -> DeliveryConfirmation:
    """The customer (or a tracking-link contact, actor None) says what arrived; less opens an
    issue. ask (a plain form: no script warned in the page): refused once with the warning
    that an issue will open, until the form comes back with open_issue=1. Proof at handover
    (orders.handover): the receiver's name with a drawn signature or the order's code."""
    if actor is not None and side_of(actor, order) not in CUSTOMER_SIDES:
        raise ApiError(403, _l("Only the customer confirms delivery."))
    clean = validate_delivery(data, order)
    proof = handover.read_proof(data, signature)
    # One delivery per order: a second confirmation sent at the same moment waits here for the
    # first to commit, then finds it (409), instead of failing on the unique index (PostgreSQL).
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    if order.status == "cancelled":
        raise ApiError(409, _l("This order was cancelled."))
    if db.session.scalar(select(DeliveryConfirmation.id).where(
            DeliveryConfirmation.order_id == order.id)) is not None:
        raise ApiError(409, _l("Delivery of this order is already confirmed."),
                       code="already_confirmed")
    if (ask and opens_issue(order, clean["condition"], clean["received_quantity"])
            and data.get("open_issue") != "1"):
        raise ApiError(422, ISSUE_WILL_OPEN, fields={"open_issue": ISSUE_WILL_OPEN},
                       code="issue_will_open")
    if proof["proof"] == "code":  # last: a wrong code counts against the order's few tries
        handover.check_code(order, data.get("handover_code"))
    now = utcnow()
    delivery = DeliveryConfirmation(
        order=order, received_quantity=clean["received_quantity"], condition=clean["condition"],
        note=str(clean["note"]), note_original=clean["note"].original,
        confirmed_by=actor, confirmed_by_label=label,
        client_id=client_id, created_at=now, phrases=clean["phrases"] or None,
    )
    delivery.photos = list(photos)
    delivery.voice = voice
    delivery.receiver_name, delivery.proof = proof["receiver_name"], proof["proof"]
    delivery.signature = signature if proof["proof"] == "signature" else None
    if document is not None:  # the signed delivery note: one of the order's papers
        from ..documents.services import document_from_request

        document_from_request(actor, order, document, "delivery_note", client_id=client_id,
                              label=None if actor is not None else label)
    db.session.add(delivery)
    order.status = "delivered"
    order.last_activity_at = now
    _add_search_text(order, delivery.note, clean["phrases"])
    db.session.flush()
    issue = None
    if opens_issue(order, clean["condition"], clean["received_quantity"]):
        from ..issues.services import raise_issue

        category, severity = ISSUE_FOR_CONDITION[clean["condition"]]
        issue = raise_issue(
            order, actor, category=category, severity=severity, title="",
            title_phrase=delivery_title(order, clean["condition"], clean["received_quantity"]),
            description=str(clean["note"]), phrases=clean["phrases"],
            photos=delivery.photos, actor_label=label, delivery=delivery, voice=voice,
        )
    recipients = [u for u in order_audience(order, ("producer", "coordinator"))
                  if actor is None or u.id != actor.id]
    notify.enqueue(
        "delivery", recipients, url=url_for("orders.detail", reference=order.reference),
        order=order, params={"reference": order.reference, "condition": clean["condition"],
                             "received": str(clean["received_quantity"]), "unit": order.unit,
                             "issue": issue.id if issue else None,
                             **({"phrases": clean["phrases"]} if clean["phrases"] else {})},
    )
    return delivery


def delivery_title(order: Order, condition: str, received) -> dict:
    """The title of the issue a delivery opens, as a phrase each reader sees in their own
    language (never frozen in the reporter's); its words follow the condition, so the two
    cannot disagree."""
    return phrases.compose(f"delivery_{condition}", order.unit, received=received,
                           ordered=order.quantity)


# --- the order page -------------------------------------------------------------------------

@dataclass
class Entry:
    kind: str  # update | confirmation | delivery | issue | document
    at: datetime
    obj: object
    reopens: bool = False  # an update that withdrew the order's cancellation


@cache  # built once per process (then keyed once: SQLAlchemy keeps a statement's cache key)
def _history_statements() -> tuple:
    of_order = bindparam("history_order", type_=Integer)
    return (
        select(StatusUpdate).where(StatusUpdate.order_id == of_order)
        .options(joinedload(StatusUpdate.photos), joinedload(StatusUpdate.author),
                 joinedload(StatusUpdate.confirmed_by), joinedload(StatusUpdate.voice))
        .order_by(StatusUpdate.id),
        select(DeliveryConfirmation).where(DeliveryConfirmation.order_id == of_order)
        .options(joinedload(DeliveryConfirmation.photos), joinedload(DeliveryConfirmation.confirmed_by),
                 joinedload(DeliveryConfirmation.voice)),
        select(Issue).where(Issue.order_id == of_order).order_by(Issue.id),
    )


def load_history(order: Order):
    """Updates (with photos and people), the delivery confirmation and the issues of an order:
    three statements (photos joined: an update's row once per photo, made one by unique())."""
    updates, delivery, issues = _history_statements()
    binds = {"history_order": order.id}
    return (list(db.session.scalars(updates, binds).unique()), db.session.scalars(delivery, binds).unique().first(),
            list(db.session.scalars(issues, binds)))


def timeline(updates, delivery, issues, documents=()) -> list[Entry]:
    """One list, newest first, of everything that happened on an order."""
    entries = [Entry("update", u.recorded_at, u, reopens_order(u)) for u in updates]
    entries += [Entry("document", d.created_at, d) for d in documents]
    entries += [Entry("confirmation", u.confirmed_at, u) for u in updates if u.confirmed_at]
    if delivery is not None:
        entries.append(Entry("delivery", delivery.created_at, delivery))
    entries += [Entry("issue", i.created_at, i) for i in issues]
    order = {"update": 0, "confirmation": 1, "delivery": 2, "issue": 3, "document": 4}
    entries.sort(key=lambda e: (e.at, order[e.kind], e.obj.id), reverse=True)
    return entries


# --- tracking links -------------------------------------------------------------------------

def create_tracking_link(actor, order: Order, data: dict) -> tuple[TrackingLink, str]:
    """A link for the customer's staff without an account; returns (link, secret token)."""
    side_of(actor, order)  # anyone on the order (404 for anyone else)
    fields: dict = {}
    contact = _text(data, "contact_name", fields, required=True)
    days = _int(data, "days", fields)
    if days is not None and not 1 <= days <= MAX_TRACKING_DAYS:
        fields["days"] = _("This number is out of range.")
    if fields:
        _invalid(fields)
    token = sign_token(new_token())
    now = utcnow()
    link = TrackingLink(order=order, token_hash=hash_token(token), contact_name=str(contact),
                        created_by_id=actor.id,
                        created_at=now, expires_at=now + timedelta(days=days or TRACKING_DAYS))
    db.session.add(link)
    db.session.flush()
    record("tracking_link_created", actor=actor, organization=getattr(actor, "organization_id", None),
           details={"order": order.reference, "link": link.id, "contact": link.contact_name,
                    "expires_at": link.expires_at.isoformat()})
    return link, token


def _signature(secret: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"tracking-link:" + secret.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")


def sign_token(secret: str) -> str:
    """A random secret plus its signature: forged links are refused before the database is asked."""
    return f"{secret}.{_signature(secret)}"


def _signed_link(token: str) -> TrackingLink | None:
    """The link a genuine token names (live or not); None when forged or unknown."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100 or "." not in token:
        return None
    secret, _dot, signature = token.rpartition(".")
    if not hmac.compare_digest(signature, _signature(secret)):
        return None
    return db.session.scalar(select(TrackingLink).where(TrackingLink.token_hash == hash_token(token)))


def _ended(link: TrackingLink) -> bool:
    return link.revoked_at is not None or link.expires_at <= utcnow()


def find_tracking_link(token: str) -> TrackingLink | None:
    """The live link for a token; None when forged, unknown, revoked or expired."""
    link = _signed_link(token)
    return None if link is None or _ended(link) else link


def ended_tracking_link(token: str) -> TrackingLink | None:
    """A genuine link that was revoked or has expired (its page says so); None otherwise."""
    link = _signed_link(token)
    return link if link is not None and _ended(link) else None


def tracking_links(order: Order) -> list[TrackingLink]:
    """The order's links that still work."""
    return list(db.session.scalars(
        select(TrackingLink).where(TrackingLink.order_id == order.id,
                                   TrackingLink.revoked_at.is_(None),
                                   TrackingLink.expires_at > utcnow())
        .order_by(TrackingLink.id)
    ))


def revoke_tracking_link(actor, order: Order, link_id) -> TrackingLink:
    """Stop a tracking link from working."""
    side_of(actor, order)  # anyone on the order (404 for anyone else)
    link = db.session.get(TrackingLink, link_id) if isinstance(link_id, int) else None
    if link is None or link.order_id != order.id:
        raise ApiError(404)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        record("tracking_link_revoked", actor=actor, organization=getattr(actor, "organization_id", None),
               details={"order": order.reference, "link": link.id, "contact": link.contact_name})
    return link


def report_problem_via_link(link: TrackingLink, data: dict, photos=(), *, client_id=None,
                            voice=None):
    """A tracking-link contact reports a problem: an issue raised in the contact's name."""
    from ..issues.services import raise_issue
    from ..models import CATEGORIES

    fields: dict = {}
    category = _choice(data, "category", CATEGORIES, fields, required=True)
    said = phrases.read(data, phrases.ISSUE, unit=link.order.unit)
    title = _text(data, "title", fields, required=not said)
    description = _text(data, "description", fields)
    if fields:
        _invalid(fields)
    return raise_issue(link.order, None, category=category, severity="medium", title=str(title),
                       description=str(description), photos=photos, client_id=client_id,
                       actor_label=link.contact_name, phrases=said, voice=voice)

