"""Prompt reporting, measured: report delay, milestones, confirmations, on-time deliveries,
border times and the expected arrival of an order in transit.

Every figure comes from the same facts, computed here once per order from its status updates
(a correction counts in place of the update it corrects: the correction's status and time,
the first report's arrival at the server):

- report delay: `recorded_at - occurred_at` of each status update (offline time included),
  in the month the first report reached the server;
- confirmation: share of those updates the customer confirmed, and the median time to confirm;
- milestones and on time: orders delivered in the month (the `delivered` update's time, or the
  customer's delivery confirmation, whichever came first), which of them reported dispatched,
  at border (only orders with a crossing), customs cleared and delivered, and which were
  delivered by their due date (the day in SECGO_DEFAULT_TIMEZONE);
- border time: hours from an order's first `at_border` to its first `customs_cleared` (by
  `occurred_at`), in the month of the `at_border` time (UTC); orders lacking either are left out;
- route time: days from dispatch to delivery, per route (the producer's country and province,
  the customer, the crossing).

The dashboard reads them from `promptness_rollups`, one row per month, group and viewer scope,
written by `refresh()` (the push worker's check, and `push-worker --once`): only the months
that orders active since the last refresh touch are computed again, one worker at a time.
"""
import hashlib
import math
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import String, and_, cast, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.orm import aliased
from sqlalchemy.exc import IntegrityError

from ..authz import visible_orders_clause
from ..extensions import db
from ..models import (
    Cluster,
    DeliveryConfirmation,
    Order,
    Organization,
    PromptnessRollup,
    RollupState,
    RouteTime,
    StatusUpdate,
    User,
    cluster_coordinators_table,
    utcnow,
)

STATE = "promptness"
RESET = "promptness-reset"  # its watermark: when every month was last asked to be computed again
COMPUTED = "computed"  # a row (month "") per scope whose months have all been computed once
LEASE = timedelta(minutes=10)
# Orders touched a little before the last refresh are looked at again: a write's time is taken
# before its transaction commits.
OVERLAP = timedelta(minutes=10)
IN_TRANSIT = ("dispatched", "at_border", "customs_cleared", "in_transit")
MIN_ROUTE_DELIVERIES = 5
ROUTE_HISTORY = 50  # the route's most recent deliveries an estimate is based on ...
ROUTE_WINDOW = timedelta(days=365)  # ... within the last year
DIMS = ("all", "cluster", "producer", "customer", "crossing")
BREAKDOWN_ROWS = 10  # rows per breakdown table on the dashboard (the CSV has all)
TREND_MONTHS = 24


# --- the one definition of median and p90 -------------------------------------------------

def nearest_rank(ordered: list, q: float):
    """The nearest-rank q-quantile (0 < q <= 1) of an ascending list: its ceil(q*n)-th value."""
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def median_p90(values) -> tuple[float | None, float | None]:
    """(median, nearest-rank p90) of values; the median of an even count is the mean of the
    two middle values. Every figure on the dashboard, in the CSV and the digest uses this."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None, None
    middle = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return middle, nearest_rank(ordered, 0.9)


def month_of(moment: datetime) -> str:
    """YYYY-MM of a moment in UTC."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m")


# --- facts per order --------------------------------------------------------------------

@dataclass
class OrderFacts:
    """What one order contributes to the figures."""

    order_id: int
    cluster_id: int | None
    producer_id: int
    customer_id: int
    crossing: str | None
    route: tuple
    # (first recorded at, report delay s, confirm time s or None) per status update
    updates: list = field(default_factory=list)
    delivered_at: datetime | None = None
    milestones: frozenset = frozenset()
    on_time: bool | None = None  # None: no due date, or not delivered
    border: tuple | None = None  # (at_border time, hours)
    transit_days: float | None = None
    touched: set = field(default_factory=set)  # months any of its updates or its delivery fall in

    def groups(self):
        """(dim, key) of every group the order counts in."""
        yield "all", ""
        if self.cluster_id is not None:
            yield "cluster", str(self.cluster_id)
        yield "producer", str(self.producer_id)
        yield "customer", str(self.customer_id)
        if self.crossing:
            yield "crossing", self.crossing


def _zone():
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


def order_facts(order_row, updates: list, delivery_at: datetime | None, zone) -> OrderFacts:
    """The facts of one order, from its row and all its status updates (any order)."""
    by_id = {u.id: u for u in updates}
    corrected = {u.corrects_id for u in updates if u.corrects_id is not None}
    facts = OrderFacts(
        order_row.id, order_row.cluster_id, order_row.producer_org_id, order_row.customer_org_id,
        order_row.border_crossing,
        (order_row.country, order_row.province or "", order_row.customer_org_id, order_row.border_crossing or ""),
    )
    facts.touched = {month_of(m) for u in updates for m in (u.occurred_at, u.recorded_at)}
    if delivery_at is not None:
        facts.touched.add(month_of(delivery_at))
    first: dict[str, datetime] = {}
    for u in updates:
        if u.id in corrected or u.status == "note":
            continue  # corrected by a later update, which counts in its place; notes are no report
        root = u
        seen = {u.id}
        while root.corrects_id is not None and root.corrects_id in by_id and root.corrects_id not in seen:
            root = by_id[root.corrects_id]
            seen.add(root.id)
        delay = max(0.0, (root.recorded_at - u.occurred_at).total_seconds())
        confirm = (max(0.0, (u.confirmed_at - u.recorded_at).total_seconds())
                   if u.confirmed_at is not None else None)
        facts.updates.append((root.recorded_at, delay, confirm))
        if u.status not in first or u.occurred_at < first[u.status]:
            first[u.status] = u.occurred_at
    if order_row.status == "delivered":
        moments = [m for m in (first.get("delivered"), delivery_at) if m is not None]
        if moments:
            facts.delivered_at = min(moments)
            facts.milestones = frozenset(s for s in ("dispatched", "at_border", "customs_cleared", "delivered")
                                         if s in first)
            if order_row.due_date is not None:
                facts.on_time = facts.delivered_at.astimezone(zone).date() <= order_row.due_date
            if "dispatched" in first and first["dispatched"] <= facts.delivered_at:
                facts.transit_days = (facts.delivered_at - first["dispatched"]).total_seconds() / 86400
    if "at_border" in first and "customs_cleared" in first and first["customs_cleared"] >= first["at_border"]:
        facts.border = (first["at_border"],
                        (first["customs_cleared"] - first["at_border"]).total_seconds() / 3600)
    return facts


def _order_columns():
    return (Order.id, Order.producer_org_id, Order.customer_org_id, Order.border_crossing,
            Order.status, Order.due_date, Organization.cluster_id, Organization.country,
            Organization.province)


def load_facts(*where) -> list[OrderFacts]:
    """The facts of every order matching where (three queries, whatever the count)."""
    orders = db.session.execute(
        select(*_order_columns()).join(Organization, Order.producer_org_id == Organization.id).where(*where)
    ).all()
    if not orders:
        return []
    chosen = select(Order.id).join(Organization, Order.producer_org_id == Organization.id).where(*where)
    updates = defaultdict(list)
    for u in db.session.execute(
        select(StatusUpdate.id, StatusUpdate.order_id, StatusUpdate.status, StatusUpdate.occurred_at,
               StatusUpdate.recorded_at, StatusUpdate.corrects_id, StatusUpdate.confirmed_at)
        .where(StatusUpdate.order_id.in_(chosen))
    ):
        updates[u.order_id].append(u)
    deliveries = dict(db.session.execute(
        select(DeliveryConfirmation.order_id, DeliveryConfirmation.created_at)
        .where(DeliveryConfirmation.order_id.in_(chosen))
    ).all())
    zone = _zone()
    return [order_facts(o, updates.get(o.id, []), deliveries.get(o.id), zone) for o in orders]


# --- figures of a set of facts ----------------------------------------------------------

@dataclass
class Tally:
    """The raw values of one group and month, before their medians are taken."""

    delays: list = field(default_factory=list)
    confirms: list = field(default_factory=list)
    delivered: int = 0
    milestones: dict = field(default_factory=lambda: defaultdict(int))
    with_crossing: int = 0
    with_due: int = 0
    on_time: int = 0
    border: list = field(default_factory=list)

    def copy(self) -> "Tally":
        return Tally(list(self.delays), list(self.confirms), self.delivered,
                     defaultdict(int, self.milestones), self.with_crossing, self.with_due,
                     self.on_time, list(self.border))

    def add(self, other: "Tally") -> None:
        """Count other's facts in too (facts of another set: none is counted twice)."""
        self.delays += other.delays
        self.confirms += other.confirms
        self.border += other.border
        for name, n in other.milestones.items():
            self.milestones[name] += n
        self.delivered += other.delivered
        self.with_crossing += other.with_crossing
        self.with_due += other.with_due
        self.on_time += other.on_time

    def figures(self) -> dict:
        """The group's figures, as stored in a rollup row."""
        delay_median, delay_p90 = median_p90(self.delays)
        confirm_median, _ = median_p90(self.confirms)
        border_median, border_p90 = median_p90(self.border)
        return {
            "updates": len(self.delays), "delay_median": delay_median, "delay_p90": delay_p90,
            "confirmed": len(self.confirms), "confirm_median": confirm_median,
            "delivered": self.delivered, "with_dispatched": self.milestones["dispatched"],
            "with_crossing": self.with_crossing, "with_at_border": self.milestones["at_border"],
            "with_customs": self.milestones["customs_cleared"],
            "with_delivered": self.milestones["delivered"], "with_due": self.with_due,
            "on_time": self.on_time, "shipments": len(self.border), "border_median": border_median,
            "border_p90": border_p90,
        }


def tally(facts, keep=lambda moment: True, month=month_of) -> dict:
    """{(month, dim, key): Tally} for the facts whose moment keep() accepts."""
    out: dict = defaultdict(Tally)
    for f in facts:
        groups = list(f.groups())
        for recorded, delay, confirm in f.updates:
            if keep(recorded):
                for g in groups:
                    t = out[(month(recorded), *g)]
                    t.delays.append(delay)
                    if confirm is not None:
                        t.confirms.append(confirm)
        if f.delivered_at is not None and keep(f.delivered_at):
            for g in groups:
                t = out[(month(f.delivered_at), *g)]
                t.delivered += 1
                for m in f.milestones:
                    if m != "at_border" or f.crossing:
                        t.milestones[m] += 1
                t.with_crossing += bool(f.crossing)
                if f.on_time is not None:
                    t.with_due += 1
                    t.on_time += f.on_time
        if f.border is not None and keep(f.border[0]):
            for g in groups:
                out[(month(f.border[0]), *g)].border.append(f.border[1])
    return out


def joined_tallies(parts: list[dict]) -> dict:
    """The tallies of several disjoint sets of facts as the tally of their union: the raw
    values of a group joined, its counts added (the parts are not changed)."""
    if len(parts) == 1:
        return parts[0]
    out: dict = {}
    copied = set()
    for part in parts:
        for key, t in part.items():
            have = out.get(key)
            if have is None:
                out[key] = t
                continue
            if key not in copied:
                have = out[key] = have.copy()
                copied.add(key)
            have.add(t)
    return out


def week_summary(user, start: datetime, end: datetime) -> dict:
    """The promptness of [start, end) in what user may see (the weekly digest): report delay
    median (hours), share of updates confirmed, share of deliveries on time, and counts."""
    facts = load_facts(visible_orders_clause(user), Order.last_activity_at >= start)
    groups = tally(facts, keep=lambda moment: start <= moment < end, month=lambda _m: "")
    t = groups.get(("", "all", ""), Tally())
    f = t.figures()
    return {
        "updates": f["updates"],
        "delay_median_hours": _hours(f["delay_median"]),
        "confirmed_share": _share(f["confirmed"], f["updates"]),
        "delivered": f["delivered"],
        "on_time_share": _share(f["on_time"], f["with_due"]),
        "shipments": f["shipments"],
        "border_median_hours": None if f["border_median"] is None else round(f["border_median"], 1),
    }


def _hours(seconds):
    return None if seconds is None else round(seconds / 3600, 1)


def _share(part, whole):
    """A share in percent, whole numbers; None when there is nothing to share."""
    return None if not whole else round(100 * part / whole)


# --- who sees which precomputed figures -------------------------------------------------

def scope_key(cluster_ids) -> str:
    """The rollup scope of a set of clusters ("all" is every cluster, for admins)."""
    text = ",".join(str(i) for i in sorted(set(cluster_ids)))
    return text if len(text) <= 40 else "h" + hashlib.sha256(text.encode()).hexdigest()[:39]


def user_scope(user) -> str | None:
    """The scope a user reads: admins all, a coordinator their clusters; else none."""
    if user.role == "admin":
        return "all"
    if user.role == "coordinator":
        return scope_key(c.id for c in user.clusters)
    return None


def _scopes() -> dict[str, frozenset | None]:
    """Every scope someone reads now: all, and each active coordinator's set of clusters."""
    sets = defaultdict(set)
    for user_id, cluster_id in db.session.execute(
        select(cluster_coordinators_table.c.user_id, cluster_coordinators_table.c.cluster_id)
        .join(User, User.id == cluster_coordinators_table.c.user_id)
        .where(User.role == "coordinator", User.active)
    ):
        sets[user_id].add(cluster_id)
    scopes: dict[str, frozenset | None] = {"all": None}
    for clusters in sets.values():
        scopes[scope_key(clusters)] = frozenset(clusters)
    return scopes


# --- the refresh (push worker) ----------------------------------------------------------

_refreshed_here = 0  # refreshes made in this process (two with one frozen clock differ too)


def generation() -> tuple:
    """Which refresh the rollups come from (one small query): what is drawn from them is
    current while this stays the same."""
    at = db.session.scalar(select(RollupState.refreshed_at).where(RollupState.name == STATE))
    return at, _refreshed_here


def _take_lease(now: datetime) -> str | None:
    """This worker's lease on the refresh, or None when another worker holds it."""
    if db.session.get(RollupState, STATE) is None:
        try:
            with db.session.begin_nested():
                db.session.add(RollupState(name=STATE, refreshed_at=now))
        except IntegrityError:
            pass  # another worker made it first
    token = secrets.token_hex(16)
    taken = db.session.execute(
        update(RollupState).where(
            RollupState.name == STATE,
            or_(RollupState.lease_until.is_(None), RollupState.lease_until < now),
        ).values(lease_until=now + LEASE, lease_token=token)
    ).rowcount
    db.session.commit()
    return token if taken else None


def refresh(now: datetime | None = None) -> int:
    """Compute again the months touched by orders active since the last refresh (all of
    them the first time, or for a new scope); returns how many months were written. Safe with
    several workers: one holds a lease, the others skip."""
    global _refreshed_here
    now = now or utcnow()
    token = _take_lease(now)
    if token is None:
        return 0
    try:
        written = _refresh(now)
        db.session.execute(
            update(RollupState).where(RollupState.name == STATE, RollupState.lease_token == token)
            .values(watermark=now, lease_until=None, lease_token=None, refreshed_at=now)
        )
        db.session.commit()
        _refreshed_here += 1
        return written
    except Exception:
        db.session.rollback()
        db.session.execute(update(RollupState).where(RollupState.name == STATE,
                                                     RollupState.lease_token == token)
                           .values(lease_until=None, lease_token=None))
        db.session.commit()
        raise


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=timezone.utc)
    return start, (start + timedelta(days=32)).replace(day=1)


def _all_months(now: datetime) -> list[str]:
    """Every month from the first order's to now."""
    first = db.session.scalar(select(func.min(Order.created_at)))
    if first is None:
        return []
    months, month = [], month_of(first)
    while month <= month_of(now):
        months.append(month)
        month = month_of(_month_bounds(month)[1])
    return months


def recompute_all(now: datetime | None = None) -> None:
    """Have the next refresh compute every month again (flushes only): a producer moved to
    another cluster, or to another place, changes the groups, scopes and routes its past
    orders count in, though none of them changed. Until then, one worker cycle at most, the
    figures are those of before the move."""
    now = now or utcnow()
    values = {"watermark": now, "refreshed_at": now}
    if db.session.execute(update(RollupState).where(RollupState.name == RESET).values(**values)).rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.add(RollupState(name=RESET, **values))
    except IntegrityError:  # asked at the same moment by another request
        db.session.execute(update(RollupState).where(RollupState.name == RESET).values(**values))


def _refresh(now: datetime) -> int:
    """One month at a time (newest first), each from the orders alive in it: the work and
    the memory follow the months to compute, not the size of the history."""
    state = db.session.get(RollupState, STATE)
    reset = db.session.get(RollupState, RESET)
    scopes = _scopes()
    known = set(db.session.scalars(select(PromptnessRollup.scope).distinct()))
    gone = known - set(scopes)
    if gone:
        db.session.execute(delete(PromptnessRollup).where(PromptnessRollup.scope.in_(gone)))
    work: dict[str, set] = defaultdict(set)  # month -> the scopes to compute again
    # Everything the first time, and after a move asked since the last refresh began reading
    # (OVERLAP: a move committed during the last refresh may have been missed by it).
    full = state.watermark is None or (reset is not None and reset.watermark >= state.watermark - OVERLAP)
    routes = None  # every route (full), else the routes of the changed orders
    if full:
        for month in _all_months(now):
            work[month].update(scopes)
    else:
        for month in _all_months(now) if set(scopes) - known else ():
            work[month].update(set(scopes) - known)  # a new set of clusters: all its months
        changed = load_facts(Order.last_activity_at >= state.watermark - OVERLAP)
        for f in changed:
            for month in f.touched:
                work[month].update(scopes)
        routes = {f.route for f in changed if f.transit_days is not None}
    deliveries = {}  # order id -> (route, delivered at, days), for the route times
    since = now - ROUTE_WINDOW
    for month in sorted(work, reverse=True):
        start, end = _month_bounds(month)
        # an order has facts in a month only if it was alive then: created before its end
        # (reports cannot predate the order) and active after its start
        facts = load_facts(Order.last_activity_at >= start, Order.created_at < end + timedelta(days=1))
        if full:
            deliveries.update({f.order_id: (f.route, f.delivered_at, f.transit_days) for f in facts
                               if f.transit_days is not None and f.delivered_at >= since})
        keys = work[month]
        db.session.execute(delete(PromptnessRollup).where(PromptnessRollup.month == month,
                                                          PromptnessRollup.scope.in_(keys)))
        # Tallied once per cluster, then joined for each scope (a set of clusters): with many
        # coordinators, tallying every scope's facts again made a million orders' first
        # refresh take hours.
        of_cluster = defaultdict(list)
        for f in facts:
            of_cluster[f.cluster_id].append(f)
        tallies = {cluster: tally(its, keep=lambda m, month=month: month_of(m) == month)
                   for cluster, its in of_cluster.items()}
        rows = []
        for scope in keys:
            clusters = scopes[scope]
            joined = joined_tallies([t for cluster, t in tallies.items()
                                     if clusters is None or cluster in clusters])
            for (_month, dim, key), t in joined.items():
                rows.append({"scope": scope, "month": month, "dim": dim, "key": key, **t.figures()})
        for at in range(0, len(rows), 1000):
            db.session.execute(insert(PromptnessRollup), rows[at:at + 1000])
    # Mark the scopes computed in full, so that a coordinator whose clusters have no figures
    # (a new cluster, or a producer moved away) is not taken for a new one at every refresh.
    fresh = set(scopes) if full else set(scopes) - known
    if fresh:
        db.session.execute(delete(PromptnessRollup).where(PromptnessRollup.dim == COMPUTED,
                                                          PromptnessRollup.scope.in_(fresh)))
        db.session.execute(insert(PromptnessRollup),
                           [{"scope": scope, "month": "", "dim": COMPUTED, "key": ""} for scope in fresh])
    if full:
        _write_routes(deliveries.values(), None)
    elif routes:
        countries = {r[0] for r in routes}
        customers = {r[2] for r in routes}
        facts = load_facts(Order.status == "delivered", Order.customer_org_id.in_(customers),
                           Organization.country.in_(countries), Order.last_activity_at >= since)
        _write_routes([(f.route, f.delivered_at, f.transit_days) for f in facts
                       if f.route in routes and f.transit_days is not None and f.delivered_at >= since],
                      routes)
    return len(work)


def _write_routes(deliveries, routes) -> None:
    """Route times from (route, delivered at, days) of deliveries: for every route (routes
    None), or again for the given routes only."""
    by_route = defaultdict(list)
    for route, delivered_at, days in deliveries:
        by_route[route].append((delivered_at, days))
    if routes is None:
        db.session.execute(delete(RouteTime))
        keys = by_route.keys()
    else:
        keys = routes
        db.session.execute(delete(RouteTime).where(tuple_(
            RouteTime.producer_country, RouteTime.producer_province, RouteTime.customer_org_id,
            RouteTime.crossing).in_(list(routes))))
    rows = []
    for route in keys:
        recent = [days for _at, days in sorted(by_route.get(route, []), reverse=True)[:ROUTE_HISTORY]]
        if not recent:
            continue
        low, high = route_range(recent)
        rows.append({"producer_country": route[0], "producer_province": route[1],
                     "customer_org_id": route[2], "crossing": route[3], "deliveries": len(recent),
                     "low_days": low, "high_days": high})
    if rows:
        db.session.execute(insert(RouteTime), rows)


def route_range(days: list) -> tuple[int, int]:
    """"Usually arrives in low-high days": the nearest-rank quartiles, in whole days (at least 1)."""
    ordered = sorted(days)
    low = max(1, round(nearest_rank(ordered, 0.25)))
    return low, max(low, round(nearest_rank(ordered, 0.75)))


# --- reading: the expected arrival, the dashboard, the CSVs ------------------------------

def _route_is(country, province, customer_org_id, crossing):
    """The route's row of route_times: the producer's country and province, the customer, the crossing."""
    return and_(RouteTime.producer_country == country, RouteTime.producer_province == province,
                RouteTime.customer_org_id == customer_org_id, RouteTime.crossing == crossing)


def expected_arrival(order) -> dict | None:
    """"Usually arrives in 3-5 days" for an order in transit, from at least 5 earlier
    deliveries on its route; None otherwise (one query, only for an order in transit)."""
    if order.status not in IN_TRANSIT:
        return None
    producer = order.producer_org
    row = db.session.execute(select(RouteTime.deliveries, RouteTime.low_days, RouteTime.high_days).where(
        _route_is(producer.country, producer.province or "", order.customer_org_id, order.border_crossing or "")
    )).first()
    if row is None or row.deliveries < MIN_ROUTE_DELIVERIES:
        return None
    return {"deliveries": row.deliveries, "low": row.low_days, "high": row.high_days}


def arrival_source_expr(reference):
    """What expected_arrival reads for the order with this reference (a SQL expression), for
    the key of a kept order page (secgo.pagecache): its route's figures while the order is in
    transit ("deliveries:low:high"), NULL otherwise. The rollup moves with deliveries on other
    orders, which no version of this order covers; with them in the key, a page is made again
    as soon as the figures it shows (or would show) move, and kept as long as they stay."""
    order, producer = aliased(Order), aliased(Organization)
    figures = (cast(RouteTime.deliveries, String) + ":" + cast(RouteTime.low_days, String) + ":"
               + cast(RouteTime.high_days, String))
    return (select(figures).select_from(order).join(producer, producer.id == order.producer_org_id)
            .join(RouteTime, _route_is(producer.country, func.coalesce(producer.province, ""),
                                       order.customer_org_id, func.coalesce(order.border_crossing, "")))
            .where(order.reference == reference, or_(*(order.status == s for s in IN_TRANSIT)))
            .scalar_subquery())


def _months_between(start: datetime, end: datetime) -> tuple[str, str]:
    return month_of(start), month_of(end - timedelta(microseconds=1))


def _rows(scope, first, last, month):
    """Rollup rows of a scope (two queries, plain rows): the trend and crossings of every
    month from first to last, and the slowest BREAKDOWN_ROWS groups of each kind in one month."""
    R = PromptnessRollup
    columns = [c for c in R.__table__.c if c.name not in ("id", "scope")]
    trend = db.session.execute(
        select(*columns).where(R.scope == scope, R.dim.in_(("all", "crossing")), R.month >= first,
                               R.month <= last)
        .order_by(R.month, R.dim, R.key)
    ).all()
    rank = func.row_number().over(
        partition_by=R.dim, order_by=(R.delay_median.is_(None), R.delay_median.desc(), R.updates.desc(), R.key)
    ).label("rank")
    ranked = select(*columns, rank).where(
        R.scope == scope, R.month == month, R.dim.in_(("cluster", "producer", "customer")),
        or_(R.updates > 0, R.delivered > 0),
    ).subquery()
    slowest = db.session.execute(
        select(*[ranked.c[c.name] for c in columns]).where(ranked.c.rank <= BREAKDOWN_ROWS)
        .order_by(ranked.c.dim, ranked.c.rank)
    ).all()
    return [*trend, *slowest]


def _names(rows) -> dict:
    """{(dim, key): name} for the clusters and organizations rows name (always two queries,
    so a page makes as many with many rows as with none)."""
    names = {}
    orgs = {int(r.key) for r in rows if r.dim in ("producer", "customer")}
    clusters = {int(r.key) for r in rows if r.dim == "cluster"}
    for oid, name in db.session.execute(select(Organization.id, Organization.name)
                                        .where(Organization.id.in_(orgs))):
        names[("producer", str(oid))] = names[("customer", str(oid))] = name
    for cid, name in db.session.execute(select(Cluster.id, Cluster.name).where(Cluster.id.in_(clusters))):
        names[("cluster", str(cid))] = name
    return names


def row_figures(r) -> dict:
    """A rollup row as the page and the CSV show it: hours, percentages, counts."""
    return {
        "month": r.month, "month_start": date(int(r.month[:4]), int(r.month[5:]), 1), "updates": r.updates,
        "delay_median": _hours(r.delay_median), "delay_p90": _hours(r.delay_p90),
        "confirmed_share": _share(r.confirmed, r.updates), "confirm_median": _hours(r.confirm_median),
        "delivered": r.delivered,
        "dispatched_share": _share(r.with_dispatched, r.delivered),
        "at_border_share": _share(r.with_at_border, r.with_crossing),
        "customs_share": _share(r.with_customs, r.delivered),
        "delivered_share": _share(r.with_delivered, r.delivered),
        "on_time_share": _share(r.on_time, r.with_due),
        "shipments": r.shipments,
        "border_median": None if r.border_median is None else round(r.border_median, 1),
        "border_p90": None if r.border_p90 is None else round(r.border_p90, 1),
    }


def parse_month(value, first: str, last: str) -> str:
    """The month chosen for the breakdowns (YYYY-MM within the period), default the last."""
    if isinstance(value, str) and len(value) == 7 and value[4] == "-" and value[:4].isdigit() \
            and value[5:].isdigit() and first <= value <= last and 1 <= int(value[5:]) <= 12:
        return value
    return last


HOURS = ("delay_median", "delay_p90", "confirm_median", "border_median", "border_p90")
SHARES = ("confirmed_share", "dispatched_share", "at_border_share", "customs_share", "delivered_share",
          "on_time_share")
COUNTS = ("updates", "delivered", "shipments")


def _formatter():
    """fmt(value, decimals, suffix): a number with the viewer's grouping and decimal signs.
    Babel's number formatting, once per cell, would double the dashboard's time (hundreds of
    cells); the signs are looked up once (Latin digits, as Babel writes them by default)."""
    from babel.numbers import get_decimal_symbol, get_group_symbol
    from flask_babel import get_locale

    locale = get_locale()
    signs = str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})

    def fmt(value, decimals=0, suffix=""):
        return "—" if value is None else f"{value:,.{decimals}f}".translate(signs) + suffix

    return fmt


def _with_text(f: dict, fmt) -> dict:
    """The figures, and beside them ("text") as the page shows them."""
    text = {k: fmt(f[k], 1) for k in HOURS}
    text.update({k: fmt(f[k], 0, "%") for k in SHARES})
    text.update({k: fmt(f[k]) for k in COUNTS})
    return {**f, "text": text}


def dashboard_section(user, period, month_arg=None) -> dict:
    """The promptness and border figures the dashboard shows for the period (at most four
    queries): the monthly trend, border times per crossing, and one month's breakdowns."""
    from ..i18n import BORDER_LABELS
    from ..i18n.formatting import format_day

    scope = user_scope(user)
    first, last = _months_between(period.start, period.end)
    month = parse_month(month_arg, first, last)
    rows = _rows(scope, first, last, month) if scope else []
    names = _names(rows)
    fmt = _formatter()
    trend = [_with_text(row_figures(r), fmt) for r in rows if r.dim == "all"][-TREND_MONTHS:]
    borders = [_with_text({**row_figures(r), "code": r.key, "name": BORDER_LABELS.get(r.key, r.key)}, fmt)
               for r in rows if r.dim == "crossing" and r.shipments]
    breakdown = {}
    for dim in ("cluster", "producer", "customer"):  # the slowest reporters first (SQL chose them)
        breakdown[dim] = [_with_text({**row_figures(r), "name": names.get((dim, r.key), "")}, fmt)
                          for r in rows if r.dim == dim]
    months = [first]
    while months[-1] < last and len(months) < 1200:
        y, m = int(months[-1][:4]), int(months[-1][5:])
        months.append(f"{y + m // 12:04d}-{m % 12 + 1:02d}")
    labels = {}

    def month_name(f):
        if f["month"] not in labels:
            labels[f["month"]] = format_day(f["month_start"], "LLLL y")
        return labels[f["month"]]

    def chart(rows, figure, label=month_name):
        """(label, value, value as shown) of the rows that have the figure."""
        return [(label(f), f[figure], f["text"][figure]) for f in rows if f[figure] is not None]

    border_month = [b for b in borders if b["month"] == month]
    charts = {
        "delay": chart(trend, "delay_median"), "confirmed": chart(trend, "confirmed_share"),
        "on_time": chart(trend, "on_time_share"),
        "border": chart(border_month, "border_median", label=lambda f: f["name"]),
    }
    for f in trend + borders:
        f["month_name"] = month_name(f)
    return {"trend": trend, "borders": borders, "breakdown": breakdown, "breakdown_rows": BREAKDOWN_ROWS,
            "month": month, "charts": charts,
            "month_start": date(int(month[:4]), int(month[5:]), 1),
            "months": [(m, date(int(m[:4]), int(m[5:]), 1)) for m in months[-TREND_MONTHS:]]}


def borders_rows(user, period) -> list[dict]:
    """Border times per crossing and month of the period (CSV), crossings in code order."""
    scope = user_scope(user)
    if scope is None:
        return []
    first, last = _months_between(period.start, period.end)
    rows = db.session.scalars(
        select(PromptnessRollup).where(
            PromptnessRollup.scope == scope, PromptnessRollup.dim == "crossing",
            PromptnessRollup.month >= first, PromptnessRollup.month <= last,
            PromptnessRollup.shipments > 0)
        .order_by(PromptnessRollup.key, PromptnessRollup.month)
    ).all()
    return [{"crossing": r.key, "month": r.month, "shipments": r.shipments,
             "median_hours": f"{r.border_median:.1f}", "p90_hours": f"{r.border_p90:.1f}"} for r in rows]


BORDER_COLUMNS = ("crossing", "month", "shipments", "median_hours", "p90_hours")


def promptness_rows(user, period) -> list[tuple]:
    """(dim, key, name, figures) of every group and month of the period, for the CSV."""
    scope = user_scope(user)
    if scope is None:
        return []
    first, last = _months_between(period.start, period.end)
    rows = db.session.scalars(
        select(PromptnessRollup).where(
            PromptnessRollup.scope == scope, PromptnessRollup.month >= first,
            PromptnessRollup.month <= last)
        .order_by(PromptnessRollup.dim, PromptnessRollup.key, PromptnessRollup.month)
    ).all()
    names = _names(rows)
    return [(r.dim, r.key, names.get((r.dim, r.key), ""), row_figures(r)) for r in rows]


def borders_csv(user, period) -> bytes:
    """GET /coordinator/borders.csv: crossing,month,shipments,median_hours,p90_hours."""
    from .services import _csv

    return _csv(BORDER_COLUMNS, ([r[c] for c in BORDER_COLUMNS] for r in borders_rows(user, period)))


def promptness_csv(user, period) -> bytes:
    """Promptness per group (everyone, cluster, producer, customer, crossing) and month, as CSV."""
    from flask_babel import gettext as _

    from ..i18n import BORDER_LABELS
    from .services import _csv

    dims = {"all": _("Everyone"), "cluster": _("Cluster"), "producer": _("Producer"),
            "customer": _("Customer"), "crossing": _("Border crossing")}
    header = [_("Group"), _("Name"), _("Month"), _("Status updates"),
              _("Report delay, median (hours)"), _("Report delay, p90 (hours)"),
              _("Confirmed by the customer"), _("Time to confirm, median (hours)"),
              _("Orders delivered"), _("Reported dispatched"),
              _("Reported at the border (orders with a crossing)"),
              _("Reported customs cleared"), _("Reported delivered"),
              _("Delivered by the due date")]

    def pct(value):
        return None if value is None else f"{value}%"

    def lines():
        for dim, key, name, f in promptness_rows(user, period):
            shown = {"all": "", "crossing": BORDER_LABELS.get(key, key)}.get(dim, name)
            yield [dims[dim], shown, f["month"], f["updates"], f["delay_median"], f["delay_p90"],
                   pct(f["confirmed_share"]), f["confirm_median"], f["delivered"],
                   *(pct(f[k]) for k in ("dispatched_share", "at_border_share", "customs_share",
                                         "delivered_share", "on_time_share"))]

    return _csv(header, lines())
