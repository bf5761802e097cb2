"""Business matching rules: events, matches, steps, orders that move a match on, the report.

Pages, the JSON API, the reminder scan and the order service call these; they only flush,
the caller commits. Who sees what is authz's (visible_events_clause, visible_matches_clause,
match_side).
"""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..authz import (coordinator_cluster_ids, match_side, visible_events_clause,
                     visible_matches_clause)
from ..errors import ApiError
from ..extensions import db
from ..ids import id_list, is_id
from ..limits import clean_text
from ..models import (MATCH_STAGES, MATCH_WAY, Match, MatchingEvent, MatchStep, Order, Organization,
                      utcnow)
from ..orders.services import _date, _int, today

STAGE_LABELS = {
    # TRANSLATORS: business matching: a buyer and a producer were matched at the forum.
    "matched": _l("Matched"),
    "contacted": _l("Contacted"),
    "sample_sent": _l("Sample sent"),
    "first_order": _l("First order"),
    "repeat_order": _l("Repeat order"),
    "dropped": _l("No longer pursued"),
}
RANK = {"dropped": -1, **{stage: i for i, stage in enumerate(MATCH_WAY)}}
MAX_PARTICIPANTS = 200
MAX_LIST = 200  # events on the list page, matches per API answer
ORDER_STAGES = ("first_order", "repeat_order")  # what an order moves a match to


# --- when an event starts --------------------------------------------------------------------

def event_start(event_day: date) -> datetime:
    """The first moment of the event's day (the corridor's default zone): orders placed from
    then on between a matched pair count as its orders."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(event_day, time.min, tzinfo=zone).astimezone(UTC)


def _day_of(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


# --- finding -------------------------------------------------------------------------------

def list_events(user) -> list[MatchingEvent]:
    """The events the user may see, the latest first."""
    return list(db.session.scalars(
        select(MatchingEvent).where(visible_events_clause(user))
        .order_by(MatchingEvent.held_on.desc(), MatchingEvent.id.desc()).limit(MAX_LIST)))


def get_event(user, event_id) -> MatchingEvent:
    """An event the user may see, else 404 (never a hint that it exists)."""
    if not is_id(event_id):
        raise ApiError(404)
    event = db.session.scalar(select(MatchingEvent).where(MatchingEvent.id == event_id,
                                                          visible_events_clause(user)))
    if event is None:
        raise ApiError(404)
    return event


def event_matches(user, event) -> list[Match]:
    """The event's matches the user may see (a coordinator: their clusters' producers')."""
    return list(db.session.scalars(
        select(Match).where(Match.event_id == event.id, visible_matches_clause(user))
        .options(selectinload(Match.buyer_org), selectinload(Match.producer_org))
        .order_by(Match.id)))


def list_matches(user, *, stage=None, limit=MAX_LIST) -> list[Match]:
    """Every match the user may see (their own organization's, for a producer or buyer)."""
    query = select(Match).where(visible_matches_clause(user))
    if stage in MATCH_STAGES:
        query = query.where(Match.stage == stage)
    return list(db.session.scalars(query.order_by(Match.id.desc()).limit(limit)))


def get_match(user, match_id) -> Match:
    """A match the user may see, else 404."""
    if not is_id(match_id):
        raise ApiError(404)
    match = db.session.scalar(select(Match).where(Match.id == match_id, visible_matches_clause(user)))
    if match is None:
        raise ApiError(404)
    return match


def can_manage(user, match) -> bool:
    """Coordinators of the match's producer and admins move a match on; its two organizations
    read it."""
    return match_side(user, match) in ("coordinator", "admin")


def _require_staff(user) -> None:
    if not user.is_authenticated or user.role not in ("coordinator", "admin"):
        raise ApiError(403)


# --- events ----------------------------------------------------------------------------------

def participant_choices(user) -> dict[str, list[Organization]]:
    """Who a coordinator may put on an event: the active producers of their clusters and every
    active buyer (buyers come from anywhere in the region); an admin: every producer."""
    producers = select(Organization).where(Organization.kind == "producer", Organization.active.is_(True))
    if user.role != "admin":
        producers = producers.where(Organization.cluster_id.in_(coordinator_cluster_ids(user)))
    buyers = select(Organization).where(Organization.kind == "customer", Organization.active.is_(True))
    return {"producers": list(db.session.scalars(producers.order_by(Organization.name))),
            "buyers": list(db.session.scalars(buyers.order_by(Organization.name)))}


NO_PRODUCER = _l("Choose at least one producer of your clusters.")


def _named(data, name, limit, fields, *, required=False):
    """clean_text of a field whose limit is named otherwise (an event's "name": "event_name")."""
    refused = {}
    text = clean_text(data.get(name), limit, refused, required=required)
    if refused:
        fields[name] = refused[limit]
    return text


def _event_fields(user, data, event, fields):
    name = _named(data, "name", "event_name", fields, required=True)
    place = clean_text(data.get("place"), "place", fields)
    held_on = _date(data, "held_on", fields)
    if held_on is None and "held_on" not in fields:
        fields["held_on"] = _l("Please fill this in.")
    elif held_on is not None and "held_on" not in fields and held_on > today() + timedelta(days=366):
        fields["held_on"] = _l("The date is too far ahead.")
    ids = data.get("organization_ids", [])
    try:
        ids = id_list(ids, "organization_ids", MAX_PARTICIPANTS)
    except ApiError as err:
        fields.update(err.fields or {"organization_ids": _l("Please choose one of the offered values.")})
        ids = []
    choices = participant_choices(user)
    offered = {o.id: o for o in choices["producers"] + choices["buyers"]}
    if any(i not in offered for i in ids):
        fields["organization_ids"] = _l("Please choose one of the offered values.")
    chosen = [offered[i] for i in ids if i in offered]
    kept = [o for o in (event.organizations if event else []) if o.id not in offered]
    matched = {m.buyer_org_id for m in (event.matches if event else [])} | {
        m.producer_org_id for m in (event.matches if event else [])}
    if matched - {o.id for o in chosen + kept}:
        fields["organization_ids"] = _l("An organization with a match at this event stays on it.")
    if not any(o.kind == "producer" for o in chosen + kept):
        fields.setdefault("organization_ids", NO_PRODUCER)
    return name, place, held_on, chosen + kept


def create_event(user, data: dict, *, client_id=None) -> MatchingEvent:
    """Record a matching event; the coordinator's producers and the buyers who took part."""
    _require_staff(user)
    fields = {}
    name, place, held_on, orgs = _event_fields(user, data, None, fields)
    if fields:
        raise ApiError(422, fields=fields)
    event = MatchingEvent(name=str(name), place=str(place), held_on=held_on, created_by_id=user.id,
                          client_id=client_id, organizations=orgs)
    db.session.add(event)
    db.session.flush()
    return event


def edit_event(user, event, data: dict) -> MatchingEvent:
    """Change an event's name, day, place or participants (an organization with a match stays)."""
    _require_staff(user)
    fields = {}
    name, place, held_on, orgs = _event_fields(user, data, event, fields)
    if held_on and any(held_on > m.stage_on and m.stage != "matched" for m in event.matches):
        fields["held_on"] = _l("A match moved on before this day.")
    if fields:
        raise ApiError(422, fields=fields)
    event.name, event.place, event.held_on, event.organizations = str(name), str(place), held_on, orgs
    for match in event.matches:
        if match.stage == "matched":
            match.stage_on = held_on
    db.session.flush()
    return event


# --- matches ---------------------------------------------------------------------------------

def add_match(user, event, data: dict, *, client_id=None) -> Match:
    """A buyer and a producer of the event who agreed to follow up; orders they placed since
    the event move it on at once."""
    _require_staff(user)
    fields = {}
    buyer_id = _int(data, "buyer_org_id", fields, required=True)
    producer_id = _int(data, "producer_org_id", fields, required=True)
    products = clean_text(data.get("products"), "products", fields, required=True)
    note = clean_text(data.get("note"), "note", fields)
    mine = {o.id for o in participant_choices(user)["producers"]}
    buyer = next((o for o in event.organizations if o.id == buyer_id and o.kind == "customer"), None)
    producer = next((o for o in event.organizations if o.id == producer_id and o.id in mine), None)
    if buyer_id is not None and buyer is None:
        fields["buyer_org_id"] = _l("Choose a buyer who took part in the event.")
    if producer_id is not None and producer is None:
        fields["producer_org_id"] = _l("Choose a producer of your clusters who took part in the event.")
    if buyer and producer and db.session.scalar(select(Match.id).where(
            Match.event_id == event.id, Match.buyer_org_id == buyer.id, Match.producer_org_id == producer.id)):
        fields["producer_org_id"] = _l("These two are already matched at this event.")
    if fields:
        raise ApiError(422, fields=fields)
    match = Match(event=event, buyer_org=buyer, producer_org=producer, products=str(products),
                  note=str(note), stage="matched", stage_on=event.held_on, created_by_id=user.id,
                  client_id=client_id)
    db.session.add(match)
    db.session.flush()
    db.session.add(MatchStep(match_id=match.id, stage="matched", on=event.held_on, actor_id=user.id))
    follow_orders(match)
    db.session.flush()
    return match


def edit_match(user, match, data: dict) -> Match:
    """Change a match's products of interest or note (its pair and steps stay)."""
    if not can_manage(user, match):
        raise ApiError(403)
    fields = {}
    products = clean_text(data.get("products"), "products", fields, required=True)
    note = clean_text(data.get("note"), "note", fields)
    if fields:
        raise ApiError(422, fields=fields)
    match.products, match.note = str(products), str(note)
    db.session.flush()
    return match


def _reach(match, stage, on) -> None:
    match.stage, match.stage_on = stage, on
    if stage in ("first_order", "repeat_order") and match.first_order_on is None:
        match.first_order_on = on
    if stage == "repeat_order" and match.repeat_order_on is None:
        match.repeat_order_on = on


def move(user, match, data: dict) -> MatchStep:
    """A coordinator moves a match to another stage on a day (a mistake is put right by
    another step: the history keeps both); "dropped" needs a reason. In the account history."""
    if not can_manage(user, match):
        raise ApiError(403)
    fields = {}
    stage = data.get("stage")
    if not isinstance(stage, str) or stage not in MATCH_STAGES:
        fields["stage"] = _l("Please choose one of the offered values.")
    elif stage == match.stage:
        fields["stage"] = _l("The match is at this stage already.")
    on = _date(data, "on", fields) if data.get("on") not in (None, "") else today()
    if "on" not in fields and on is not None:
        if on > today():
            fields["on"] = _l("The day cannot be in the future.")
        elif on < match.event.held_on:
            fields["on"] = _l("The day cannot be before the event.")
    reason = clean_text(data.get("reason"), "reason", fields,
                        required=_l("Say why it is no longer pursued.") if stage == "dropped" else False)
    if fields:
        raise ApiError(422, fields=fields)
    before = match.stage
    _reach(match, stage, on)
    step = MatchStep(match_id=match.id, stage=stage, on=on, reason=str(reason), actor_id=user.id)
    db.session.add(step)
    record("match_stage_changed", actor=user, organization=match.producer_org_id,
           details={"match": match.id, "event": match.event_id, "from": before, "to": stage,
                    "on": on.isoformat()})
    db.session.flush()
    return step


# --- orders move a match on ------------------------------------------------------------------

def _pair_orders(match) -> list[Order]:
    """The pair's orders placed since the event began, oldest first, cancelled ones left out."""
    return list(db.session.scalars(
        select(Order).where(Order.producer_org_id == match.producer_org_id,
                            Order.customer_org_id == match.buyer_org_id,
                            Order.created_at >= event_start(match.event.held_on),
                            Order.status != "cancelled")
        .order_by(Order.created_at, Order.id).limit(2)))


def follow_orders(match) -> int:
    """Move a match on from the pair's orders since the event: one → first order, two →
    repeat order. Only ever forward (a dropped match that orders is back on), recomputed from
    the orders themselves, so running it again changes nothing; the number of steps added."""
    orders = _pair_orders(match)
    added = 0
    for stage, order in zip(ORDER_STAGES, orders, strict=False):  # at most two orders count
        if RANK[stage] > RANK[match.stage]:
            on = max(_day_of(order.created_at), match.event.held_on)
            _reach(match, stage, on)
            db.session.add(MatchStep(match_id=match.id, stage=stage, on=on, order_id=order.id))
            added += 1
    return added


def order_placed(order) -> int:
    """Called by orders.services.create_order in the order's transaction: the matches of its
    pair from events up to its day move on. The matches are locked first (FOR UPDATE on
    PostgreSQL), so two orders placed at once by the pair are counted one after the other."""
    matches = db.session.scalars(
        select(Match).join(MatchingEvent, MatchingEvent.id == Match.event_id)
        .where(Match.producer_org_id == order.producer_org_id, Match.buyer_org_id == order.customer_org_id,
               MatchingEvent.held_on <= _day_of(order.created_at), Match.stage != "repeat_order")
        .order_by(Match.id).with_for_update(of=Match)
    ).all()
    return sum(follow_orders(match) for match in matches)


# --- follow-up ------------------------------------------------------------------------------

def open_matches_count(user, event) -> int:
    """Matches of the event the coordinator sees that have not reached a repeat order and are
    still pursued: what a follow-up reminder is about."""
    return db.session.scalar(select(func.count(Match.id)).where(
        Match.event_id == event.id, visible_matches_clause(user),
        Match.stage.not_in(("repeat_order", "dropped")))) or 0


# --- the impact report -----------------------------------------------------------------------

def report(user, event) -> dict:
    """The event's impact, over the matches the user sees: how many, the share that reached a
    first and a repeat order, the median days to the first order, and the value of the orders
    between matched pairs since the event, per currency (orders without a value counted)."""
    from ..coordinator.promptness import median_p90

    matches = event_matches(user, event)
    n = len(matches)
    first = [m for m in matches if m.first_order_on]
    repeat = [m for m in matches if m.repeat_order_on]
    days = [(m.first_order_on - event.held_on).days for m in first]
    median_days, _p90 = median_p90(days)
    stages = {stage: 0 for stage in MATCH_STAGES}
    for m in matches:
        stages[m.stage] += 1
    orders = _orders_of(matches, event)
    values, unpriced, per_match = {}, 0, {}
    for order in orders:
        key = (order.producer_org_id, order.customer_org_id)
        per_match.setdefault(key, []).append(order)
        if order.value is None:
            unpriced += 1
        else:
            values[order.currency] = values.get(order.currency, 0) + order.value
    return {
        "matches": matches, "count": n, "first": len(first), "repeat": len(repeat),
        "first_share": round(100 * len(first) / n) if n else None,
        "repeat_share": round(100 * len(repeat) / n) if n else None,
        "median_days": median_days, "stages": stages, "orders": len(orders),
        "by_currency": dict(sorted(values.items())), "unpriced": unpriced, "per_match": per_match,
    }


def _orders_of(matches, event) -> list[Order]:
    """Orders between matched pairs placed since the event, cancelled ones left out."""
    if not matches:
        return []
    pairs = {(m.producer_org_id, m.buyer_org_id) for m in matches}
    producers = {p for p, _b in pairs}
    rows = db.session.scalars(
        select(Order).where(Order.producer_org_id.in_(producers),
                            Order.customer_org_id.in_({b for _p, b in pairs}),
                            Order.created_at >= event_start(event.held_on), Order.status != "cancelled")
        .order_by(Order.created_at, Order.id)).all()
    return [o for o in rows if (o.producer_org_id, o.customer_org_id) in pairs]


def report_csv(user, event) -> bytes:
    """One row per match, for the steering committee: the pair, products, stage, the day of each
    step, days to the first order, its orders and their value per currency."""
    from ..coordinator.services import _csv

    data = report(user, event)
    currencies = sorted(data["by_currency"])
    header = [_("Event"), _("Event day"), _("Buyer"), _("Producer"), _("Products of interest"),
              _("Stage"), _("Contacted"), _("Sample sent"), _("First order"), _("Repeat order"),
              _("Days to first order"), _("Orders"), _("Orders without a value"),
              *[_("Value (%(currency)s)", currency=c) for c in currencies]]

    def lines():
        for m in data["matches"]:
            reached = {}
            for step in m.steps:
                reached.setdefault(step.stage, step.on)
            orders = data["per_match"].get((m.producer_org_id, m.buyer_org_id), [])
            totals = {c: sum((o.value for o in orders if o.currency == c and o.value is not None), 0)
                      for c in currencies}
            yield [event.name, event.held_on, m.buyer_org.name, m.producer_org.name, m.products,
                   STAGE_LABELS[m.stage], reached.get("contacted"), reached.get("sample_sent"),
                   m.first_order_on, m.repeat_order_on,
                   (m.first_order_on - event.held_on).days if m.first_order_on else None,
                   len(orders), sum(1 for o in orders if o.value is None),
                   *[totals[c] for c in currencies]]

    return _csv(header, lines())


def stage_choices(match) -> list[str]:
    """The stages a coordinator may move the match to now (any other; the likely next first)."""
    if match.stage in MATCH_WAY[:-1]:
        nxt = MATCH_WAY[MATCH_WAY.index(match.stage) + 1]
        rest = [s for s in MATCH_STAGES if s not in (match.stage, nxt)]
        return [nxt, *rest]
    return [s for s in MATCH_STAGES if s != match.stage]


def now_day() -> date:
    """Today for the viewer (the default day of a step)."""
    return today(utcnow())
