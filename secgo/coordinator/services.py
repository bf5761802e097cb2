"""Dashboard figures, aggregated in SQL so the query count never grows with the data."""
import csv
import io
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import get_timezone
from flask_babel import gettext as _
from sqlalchemy import Date, bindparam, case, func, literal, literal_column, select
from sqlalchemy.orm import aliased

from .. import phrases
from ..authz import stand_in, stand_in_binds, visible_issues_clause, visible_orders_clause
from ..extensions import db
from ..i18n import BORDER_LABELS, CATEGORY_LABELS, DOCUMENT_LABELS, SEVERITY_LABELS, STATE_LABELS, STATUS_LABELS
from ..issues.services import filter_binds, filter_clauses, filter_stand_ins, order_filter_clauses, parse_filters
from ..models import CHECKED_STATUSES, Cluster, Issue, Order, Organization, StatusUpdate, utcnow
from ..models.base import UTCDateTime
from ..models.issue import urgency_order
from ..orders.services import awaiting_count_expr, open_issues_expr, today as viewer_today

DEFAULT_PERIOD_DAYS = 90
# The dashboard shows the most urgent few of each list (a phone screen's worth) and links to
# the whole list: its page stays small and cheap however many issues and orders there are.
LIST_LIMIT = 10  # open issues, most urgent first (the rest are one tap away, on /issues)
SHORT_LIST = 10  # overdue orders, and updates waiting for the customer
UNCONFIRMED_HOURS = 24
COUNT_CAP = 100  # the dashboard counts overdue orders and updates awaiting confirmation up to
# this, then says "100+": the counts stay as cheap with a million orders as with a hundred


@dataclass
class Period:
    start: datetime
    end: datetime  # exclusive

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()


def _day(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None
    return day if day and 2000 <= day.year <= 2100 else None


def parse_period(args, now: datetime) -> Period:
    """The chosen period (from/to as YYYY-MM-DD, whole days in UTC), default the last 90 days."""
    last = _day(args.get("to")) or now.date()
    first = _day(args.get("from")) or last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if first > last:
        first, last = last, first
    start = datetime.combine(first, time.min, timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time.min, timezone.utc)
    return Period(start, end)


def seconds_between(start, end, dialect: str | None = None):
    """SQL for end - start in seconds, on SQLite and PostgreSQL (the app's, unless given)."""
    if (dialect or db.engine.dialect.name) == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def _period_figures_statement(filters: dict, dialect: str, *where):
    """The issues matching where, in one pass: their count per cluster x category x border
    crossing (a few hundred groups at most), and the median time to first response and to
    resolution (NULLs left out: each value is ranked with its NULLs last, and the middle one
    or two averaged; every group's row carries the same two medians)."""
    values = [seconds_between(Issue.created_at, Issue.first_response_at, dialect),
              seconds_between(Issue.created_at, Issue.resolved_at, dialect)]
    columns = [Cluster.id.label("cluster_id"), Cluster.name.label("cluster_name"), Issue.category,
               func.coalesce(Issue.border_crossing, literal("")).label("crossing")]
    for i, value in enumerate(values):
        columns += [
            value.label(f"v{i}"),
            func.row_number().over(order_by=(value.is_(None), value)).label(f"r{i}"),
            func.count(value).over().label(f"n{i}"),
        ]
    rows = (_issues_from(select(*columns), filters, producer=True)
            .outerjoin(Cluster, _producer.cluster_id == Cluster.id).where(*where).subquery())
    keys = [rows.c.cluster_id, rows.c.cluster_name, rows.c.category, rows.c.crossing]
    medians = []
    for i in range(len(values)):
        n = rows.c[f"n{i}"]
        middle = case((rows.c[f"r{i}"].in_(((n + 1) // 2, (n + 2) // 2)), rows.c[f"v{i}"]))
        medians.append(func.sum(func.sum(middle)).over()
                       / func.nullif(func.sum(func.count(middle)).over(), 0))
    return select(*keys, func.count(), *medians).group_by(*keys)


def _period_figures(result) -> tuple[list, list[float | None]]:
    """(groups: cluster id and name, category, crossing, count; the two medians in seconds)
    from _period_figures_statement's rows."""
    groups = [row[:5] for row in result]
    middle = result[0][5:] if result else [None, None]
    return groups, [None if m is None else round(float(m)) for m in middle]


_producer = aliased(Organization, name="producer")


def _issue_scope(user, filters):
    return [visible_issues_clause(user), *filter_clauses(filters, _producer)]


def _issues_from(stmt, filters: dict, *, producer=False):
    """stmt FROM issues, and their producer when asked or a filter needs it (who may see an
    issue, and the order's crossing and organizations the filters ask about, are on the issue
    itself: no join to orders; each join left out also saves planning time)."""
    return _with_producer(stmt.select_from(Issue), Issue.producer_org_id, filters, producer)


def _with_producer(stmt, producer_org_id, filters: dict, always=False):
    """stmt joined to the producer organization when asked or a filter is on its columns."""
    if always or {"cluster", "country"} & filters.keys():
        stmt = stmt.join(_producer, producer_org_id == _producer.id)
    return stmt


def _capped(stmt):
    """SQL for how many rows stmt selects, counted up to COUNT_CAP (then it says COUNT_CAP)."""
    return (select(func.count()).select_from(stmt.limit(COUNT_CAP).subquery())
            .correlate(None).scalar_subquery())


@cache
def _dashboard_statements(role: str, filter_keys: frozenset, dialect: str) -> SimpleNamespace:
    """The dashboard's six statements for a role and a set of filters (which ones are set, not
    their values), built once per process: the user, the filters' values and the moments are
    binds (dash_*; dashboard() gives their values). Building them anew for every request took
    about as long as PostgreSQL took to run them."""
    user = stand_in(role, "dash")
    filters = filter_stand_ins(filter_keys, "dash")
    today = bindparam("dash_today", type_=Date())
    unanswered_before, stale_before, start, end = (
        bindparam(f"dash_{name}", type_=UTCDateTime())
        for name in ("unanswered_before", "stale_before", "start", "end"))
    scope = _issue_scope(user, filters)
    open_scope = [*scope, Issue.is_open]
    unanswered = Issue.awaits_answer & (Issue.created_at < unanswered_before)

    urgency = urgency_order()
    # The most urgent, chosen on the issues alone; then their orders and clusters.
    most_urgent = _issues_from(select(Issue.id), filters).where(*open_scope).order_by(*urgency)
    urgent = (
        select(
            Issue.id, Issue.title, Issue.title_phrase, Issue.severity, Issue.state, Issue.category,
            Issue.created_at,
            Issue.first_response_at, Order.reference, Order.due_date, Order.status,
            Order.is_overdue(today).label("order_overdue"),
            Order.border_crossing, Cluster.name.label("cluster"),
        )
        .join(Order, Issue.order_id == Order.id)
        .join(_producer, Issue.producer_org_id == _producer.id)
        .outerjoin(Cluster, _producer.cluster_id == Cluster.id)
        .where(Issue.id.in_(most_urgent.limit(LIST_LIMIT).scalar_subquery()))
        .order_by(*urgency)
    )
    order_scope = [visible_orders_clause(user), *order_filter_clauses(filters, _producer)]
    overdue_where = [*order_scope, Order.is_overdue(today)]
    unconfirmed_where = [
        *order_scope, StatusUpdate.awaiting_confirmation, StatusUpdate.recorded_at < stale_before,
    ]

    # The figures at the top, in one statement: open issues, unanswered ones, resolved ones
    # waiting for their reporter to close them, overdue orders and updates waiting for the
    # customer, each counted up to COUNT_CAP from a LIMITed subquery that an index serves:
    # beyond the cap the figure says "100+", and the counts stay as cheap with a million
    # orders as with a hundred (below the cap they are exact).
    def issues_where(*where):
        return _issues_from(select(Issue.id), filters).where(*scope, *where)

    totals = select(
        _capped(issues_where(Issue.is_open)).label("open"),
        _capped(issues_where(unanswered)).label("unanswered"),
        _capped(issues_where(Issue.waits_for_close)).label("waiting_for_close"),
        _capped(_with_producer(select(Order.id), Order.producer_org_id, filters)
                .where(*overdue_where)).label("overdue"),
        _capped(_with_producer(select(StatusUpdate.id).join(Order, StatusUpdate.order_id == Order.id),
                               Order.producer_org_id, filters)
                .where(*unconfirmed_where)
                .with_hint(StatusUpdate, "INDEXED BY ix_status_updates_awaiting_recorded", "sqlite"))
        .label("unconfirmed"),
    )
    overdue = (
        select(Order.reference, Order.product, Order.due_date, Order.status,
               _producer.name.label("producer"))
        .join(_producer, Order.producer_org_id == _producer.id)
        .where(*overdue_where).order_by(Order.due_date, Order.id).limit(SHORT_LIST)
    )
    unconfirmed = (
        select(StatusUpdate.id, StatusUpdate.status, StatusUpdate.recorded_at, Order.reference,
               _producer.name.label("producer"))
        .join(Order, StatusUpdate.order_id == Order.id)
        .join(_producer, Order.producer_org_id == _producer.id)
        .where(*unconfirmed_where).order_by(StatusUpdate.recorded_at).limit(SHORT_LIST)
        # Oldest first from the small partial index, stopping at the first few in scope; SQLite
        # would otherwise read every update of every order in scope and sort them.
        .with_hint(StatusUpdate, "INDEXED BY ix_status_updates_awaiting_recorded", "sqlite")
    )
    # Orders on their way with papers their crossing needs missing (orders.missing_documents,
    # kept by secgo.documents): the most recently active first, from a small partial index.
    papers = (
        select(Order.reference, Order.product, Order.status, Order.missing_documents,
               _producer.name.label("producer"))
        .join(_producer, Order.producer_org_id == _producer.id)
        .where(*order_scope, Order.missing_documents.is_not(None),
               Order.status.in_([literal_column(f"'{s}'") for s in CHECKED_STATUSES]))
        .order_by(Order.last_activity_at.desc()).limit(SHORT_LIST)
        .with_hint(Order, "INDEXED BY ix_orders_documents_missing", "sqlite")
    )
    # One pass over the period's issues for the three breakdowns and the two medians.
    figures = _period_figures_statement(filters, dialect, *scope, Issue.created_at >= start,
                                        Issue.created_at < end)
    return SimpleNamespace(urgent=urgent, totals=totals, overdue=overdue, unconfirmed=unconfirmed,
                           papers=papers, figures=figures)


def dashboard(user, filters: dict, period: Period, now: datetime, unanswered_hours: int) -> dict:
    """Everything the coordinator dashboard shows, in a fixed number of queries."""
    statements = _dashboard_statements(user.role, frozenset(filters), db.engine.dialect.name)
    unanswered_before = now - timedelta(hours=unanswered_hours)
    binds = {**stand_in_binds(user, "dash"), **filter_binds(filters, "dash"),
             "dash_today": viewer_today(now), "dash_unanswered_before": unanswered_before,
             "dash_stale_before": now - timedelta(hours=UNCONFIRMED_HOURS),
             "dash_start": period.start, "dash_end": period.end}

    def rows(statement):
        return db.session.execute(statement, binds).all()

    urgent = [
        {
            **row._asdict(),
            "title": phrases.title(row.title, row.title_phrase),  # in the viewer's language
            "age": now - row.created_at,
            "waiting": (now - row.created_at) if row.first_response_at is None else None,
            "unanswered": row.first_response_at is None and row.created_at < unanswered_before,
            "order_overdue": bool(row.order_overdue),
        }
        for row in rows(statements.urgent)
    ]
    totals = db.session.execute(statements.totals, binds).one()
    overdue_count, unconfirmed_count = totals.overdue, totals.unconfirmed
    overdue = rows(statements.overdue)
    unconfirmed = rows(statements.unconfirmed)
    papers = rows(statements.papers)
    papers_missing = [SimpleNamespace(**row._asdict(), missing=[
        DOCUMENT_LABELS.get(t, t) for t in row.missing_documents.split(",")]) for row in papers]

    groups, (first_response, resolution) = _period_figures(rows(statements.figures))
    clusters, categories, borders = {}, {}, {}
    for cluster_id, cluster_name, category, crossing, n in groups:
        if cluster_id is not None:
            clusters[(cluster_id, cluster_name)] = clusters.get((cluster_id, cluster_name), 0) + n
        categories[category] = categories.get(category, 0) + n
        borders[crossing] = borders.get(crossing, 0) + n

    def largest_first(counts):
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    by_cluster = [(name, n) for (_id, name), n in sorted(
        clusters.items(), key=lambda item: (-item[1], item[0][1], item[0][0]))]
    by_category = largest_first(categories)
    by_border = largest_first(borders)

    return {
        "urgent": urgent,
        "open_count": totals.open,  # these five up to count_cap
        "unanswered_count": totals.unanswered,
        "waiting_for_close_count": totals.waiting_for_close,
        "overdue": overdue,
        "overdue_count": overdue_count,
        "unconfirmed": unconfirmed,
        "unconfirmed_count": unconfirmed_count,
        "papers_missing": papers_missing,
        "count_cap": COUNT_CAP,
        "by_cluster": [(name, n) for name, n in by_cluster],
        "by_category": [(CATEGORY_LABELS.get(c, c), n) for c, n in by_category],
        "by_border": [(BORDER_LABELS.get(b) or _("No border crossing"), n) for b, n in by_border],
        "median_first_response": None if first_response is None else timedelta(seconds=first_response),
        "median_resolution": None if resolution is None else timedelta(seconds=resolution),
        "period": period,
        "unanswered_hours": unanswered_hours,
    }


# --- CSV ----------------------------------------------------------------------------------

BOM = "\ufeff"


def _csv(header, rows) -> bytes:
    out = io.StringIO()
    out.write(BOM)  # spreadsheet software then reads UTF-8 and shows every script
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return out.getvalue().encode("utf-8")


# Moments in the viewer's zone, to the minute: spreadsheets read "2026-11-28 11:48" as a date.
CSV_MOMENT = "%Y-%m-%d %H:%M"


def _zone() -> str:
    """The viewer's zone as the CSV header names it: "Asia/Bangkok, UTC+07:00"."""
    zone = get_timezone()
    offset = datetime.now(zone).strftime("%z")
    return f"{zone}, UTC{offset[:3]}:{offset[3:]}"


def _cell(value):
    if isinstance(value, datetime):
        text = value.astimezone(get_timezone()).strftime(CSV_MOMENT)
    else:
        text = value.isoformat() if isinstance(value, date) else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def issues_csv(user, filters: dict, period: Period, now: datetime) -> bytes:
    """The filtered issues of the period as CSV (UTF-8 with BOM)."""
    customer = aliased(Organization, name="customer")
    rows = db.session.execute(
        select(
            Issue.id, Order.reference, Issue.created_at, Issue.state, Issue.severity,
            Issue.category, Issue.title, Cluster.name, _producer.name, customer.name,
            Order.border_crossing, Issue.first_response_at, Issue.resolved_at, Issue.closed_at,
            Issue.title_phrase,
        )
        .join(Order, Issue.order_id == Order.id)
        .join(_producer, Order.producer_org_id == _producer.id)
        .join(customer, Order.customer_org_id == customer.id)
        .outerjoin(Cluster, _producer.cluster_id == Cluster.id)
        .where(*_issue_scope(user, filters), Issue.created_at >= period.start,
               Issue.created_at < period.end)
        .order_by(Issue.created_at, Issue.id)
    )
    zone = _zone()
    header = [_("Issue"), _("Order"), _("Raised at (%(zone)s)", zone=zone), _("State"), _("Severity"),
              _("Category"), _("Title"), _("Cluster"), _("Producer"), _("Customer"),
              _("Border crossing"), _("First response at (%(zone)s)", zone=zone),
              _("Resolved at (%(zone)s)", zone=zone), _("Closed at (%(zone)s)", zone=zone),
              _("Age (hours)")]

    def lines():
        for r in rows:
            end = r.closed_at or now
            yield [r.id, r.reference, r.created_at, STATE_LABELS[r.state], SEVERITY_LABELS[r.severity],
                   CATEGORY_LABELS[r.category], phrases.title(r.title, r.title_phrase), r.name,
                   r[8], r[9],
                   BORDER_LABELS.get(r.border_crossing, "") if r.border_crossing else "",
                   r.first_response_at, r.resolved_at, r.closed_at,
                   round((end - r.created_at).total_seconds() / 3600, 1)]

    return _csv(header, lines())


def orders_csv(user, filters: dict, period: Period, now: datetime) -> bytes:
    """The filtered orders created in the period as CSV (UTF-8 with BOM)."""
    customer = aliased(Organization, name="customer")
    today = viewer_today(now)
    rows = db.session.execute(
        select(
            Order.reference, Order.created_at, Order.product, Order.quantity, Order.unit,
            Order.status, Cluster.name, _producer.name, customer.name, Order.origin,
            Order.destination, Order.border_crossing, Order.due_date,
            Order.is_overdue(today).label("overdue"), open_issues_expr().label("open_issues"),
            awaiting_count_expr().label("awaiting"),
        )
        .join(_producer, Order.producer_org_id == _producer.id)
        .join(customer, Order.customer_org_id == customer.id)
        .outerjoin(Cluster, _producer.cluster_id == Cluster.id)
        .where(visible_orders_clause(user), *order_filter_clauses(filters, _producer),
               Order.created_at >= period.start, Order.created_at < period.end)
        .order_by(Order.created_at, Order.id)
    )
    header = [_("Order"), _("Created at (%(zone)s)", zone=_zone()), _("Product"), _("Quantity"), _("Unit"),
              _("Status"), _("Cluster"), _("Producer"), _("Customer"), _("Origin"),
              _("Destination"), _("Border crossing"), _("Due date"), _("Overdue"),
              _("Open issues"), _("Awaiting confirmation")]

    def lines():
        for r in rows:
            yield [r.reference, r.created_at, r.product, format(r.quantity.normalize(), "f"), r.unit,
                   STATUS_LABELS.get(r.status, r.status), r[6], r[7], r[8], r.origin, r.destination,
                   BORDER_LABELS.get(r.border_crossing, "") if r.border_crossing else "",
                   r.due_date, _("yes") if r.overdue else _("no"), r.open_issues, r.awaiting]

    return _csv(header, lines())


__all__ = ["dashboard", "issues_csv", "orders_csv", "parse_filters", "parse_period", "utcnow"]
