"""The coordinator dashboard: figures against a hand-computed fixture, CSV export, query count."""
import csv
import io
from statistics import median
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, insert, select

from secgo.coordinator import services as dash
from secgo.extensions import db
from secgo.i18n import BORDER_LABELS, CATEGORY_LABELS
from secgo.models import Issue, Order, StatusUpdate
from tests.factories import PASSWORD
from tests.issue_factories import at, build_fixture, person, raise_as

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)


def figures(name, args=None):
    user = person(name)
    period = dash.parse_period(args or {"from": "2026-03-01", "to": "2026-03-20"}, NOW)
    return dash.dashboard(user, dash.parse_filters(args or {}), period, NOW, 48)


def test_the_coordinator_sees_hand_computed_figures_for_their_cluster(app, world):
    with app.app_context():
        build_fixture(world)
        d = figures("coordinator")
        assert d["open_count"] == 3  # 1, 4, 5 (2 is closed, 3 resolved, 6 another cluster)
        assert d["waiting_for_close_count"] == 1  # 3: resolved, waiting for its reporter
        assert d["unanswered_count"] == 1
        assert [i["title"] for i in d["urgent"]] == ["Ten bags short", "Papers", "Truck"]
        first = d["urgent"][0]
        assert first["age"] == timedelta(days=18, hours=4) and first["waiting"] == first["age"]
        assert first["unanswered"] and first["order_overdue"]
        assert d["urgent"][1]["waiting"] is None and not d["urgent"][1]["unanswered"]
        assert d["urgent"][2]["age"] == timedelta(hours=6) and not d["urgent"][2]["unanswered"]
        assert d["overdue_count"] == 1 and [o.reference for o in d["overdue"]] == ["SEC-WRLD01"]
        assert d["unconfirmed_count"] == 1 and d["unconfirmed"][0].status == "dispatched"
        assert d["by_cluster"] == [("Takeo organic rice", 5)]
        assert sorted((str(k), n) for k, n in d["by_category"]) == sorted(
            [("Quantity", 1), ("Delay", 1), ("Quality", 1), ("Documents / customs", 1), ("Transport", 1)])
        assert {str(k): n for k, n in d["by_border"]} == {
            "Bavet – Moc Bai (KH–VN)": 2, "No border crossing": 2, "Aranyaprathet – Poipet (TH–KH)": 1}
        assert d["by_border"][-1][1] == 1  # largest first
        assert d["median_first_response"] == timedelta(hours=4)  # 3 h, 4 h, 5 h
        assert d["median_resolution"] == timedelta(hours=36)  # 24 h, 48 h


def test_each_coordinator_sees_their_own_cluster_through_the_statements_built_once(app, world):
    """The dashboard's statements are built once per role and filters (the user, the filters'
    values and the moments are binds): the second coordinator, with the same filters, gets
    their own cluster's figures, never the first one's."""
    with app.app_context():
        build_fixture(world)
        first = figures("coordinator", {"from": "2026-03-01", "to": "2026-03-20", "category": "delay"})
        other = figures("other_coordinator", {"from": "2026-03-01", "to": "2026-03-20", "category": "delay"})
        again = figures("coordinator")
        silk = figures("other_coordinator")
        assert first["by_cluster"] == [("Takeo organic rice", 1)]
        assert other["by_cluster"] == [] and other["open_count"] == 0  # no delay in their cluster
        assert silk["by_cluster"] == [("Vientiane silk", 1)] and [i["title"] for i in silk["urgent"]] == ["Unpaid"]
        assert again["open_count"] == 3 and again["by_cluster"] == [("Takeo organic rice", 5)]


def test_the_admin_sees_every_cluster(app, world):
    with app.app_context():
        build_fixture(world)
        d = figures("admin")
        assert d["open_count"] == 4 and d["unanswered_count"] == 2
        assert [i["title"] for i in d["urgent"]][:2] == ["Ten bags short", "Unpaid"]
        assert d["overdue_count"] == 2
        assert dict(d["by_cluster"]) == {"Takeo organic rice": 5, "Vientiane silk": 1}


def test_filters_and_the_period_change_the_figures(app, world):
    with app.app_context():
        build_fixture(world)
        d = figures("coordinator", {"from": "2026-03-14", "to": "2026-03-20"})
        assert d["median_first_response"] == timedelta(hours=4, minutes=30)  # 5 h, 4 h
        assert d["median_resolution"] == timedelta(hours=48)
        assert d["by_cluster"] == [("Takeo organic rice", 3)]
        d = figures("coordinator", {"from": "2026-03-01", "to": "2026-03-20", "severity": "high"})
        assert [i["title"] for i in d["urgent"]] == ["Ten bags short", "Papers"]
        assert d["median_first_response"] == timedelta(hours=4) and d["median_resolution"] is None
        d = figures("coordinator", {"from": "2026-03-01", "to": "2026-03-20", "border": "bavet_moc_bai"})
        assert d["open_count"] == 0 and d["overdue_count"] == 0  # 2 is closed, 3 resolved
        assert d["waiting_for_close_count"] == 1
        d = figures("coordinator", {"from": "2026-03-01", "to": "2026-03-20", "cluster": "2"})
        assert d["open_count"] == 0  # not their cluster: the filter cannot widen what they see


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_dashboard_page_shows_flags_charts_and_text_equivalents(app, world, client, monkeypatch):
    with app.app_context():
        build_fixture(world)
        person("coordinator").locale = "th"
        db.session.commit()
    monkeypatch.setattr("secgo.coordinator.routes.utcnow", lambda: NOW)
    client.post("/login", data={"login": "coordinator", "password": PASSWORD})
    r = client.get("/coordinator?from=2026-03-01&to=2026-03-20")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'lang="th"' in html
    assert html.count("<svg class=\"bars\"") == 3 and html.count('<table class="sr-only">') == 3
    assert "style=" not in html.split("<main", 1)[1]
    assert html.index("Ten bags short") < html.index("Papers") < html.index("Truck")
    assert "Mould" not in html  # resolved: counted apart, as waiting to be closed
    assert "state=resolved" in html
    assert "Unpaid" not in html and "SEC-WRLD01" in html
    assert 'class="chip flag"' in html


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_odd_filter_values_are_ignored_not_a_crash(app, world, client):
    client.post("/login", data={"login": "admin", "password": PASSWORD})
    for query in ("from=9999-12-31&to=0001-01-01", "from=2026-13-45", "cluster=" + "9" * 40,
                  "state=<b>&border=../../etc", "to=2026-01-01&from=2026-02-01"):
        assert client.get(f"/coordinator?{query}").status_code == 200, query
        assert client.get(f"/coordinator/issues.csv?{query}").status_code == 200, query


def test_csv_exports_keep_every_script_and_start_with_a_bom(app, world):
    titles = ["ស្រូវខូចគុណភាព", "ໄໝບໍ່ຄົບ", "သရက်သီးပျက်စီး", "ข้าวมีมอด", "Thiếu hàng ở cửa khẩu",
              "Ten bags short"]
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == world.issue_order))
        for n, title in enumerate(titles[:-1]):
            raise_as("customer", order, title=title, now=at(5 + n, 9))
        raise_as("customer", order, title="=HYPERLINK(\"x\")", now=at(11, 9))
        db.session.commit()
        coordinator = person("coordinator")
        period = dash.parse_period({"from": "2026-03-01", "to": "2026-03-31"}, NOW)
        body = dash.issues_csv(coordinator, {}, period, NOW)
        assert body.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert rows[0][:3] == ["Issue", "Order", "Raised at (Asia/Bangkok, UTC+07:00)"]
        assert sorted(r[6] for r in rows[1:]) == sorted(titles[:-1] + ["Ten bags short", "'=HYPERLINK(\"x\")"])
        first = rows[1]
        assert first[1] == "SEC-WRLD01" and first[3] == "Open" and first[7] == "Takeo organic rice"
        assert first[-1] == str(round((NOW - at(2, 8)).total_seconds() / 3600, 1))
        orders = dash.orders_csv(coordinator, {"border": "aranyaprathet_poipet"}, period, NOW)
        assert orders.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(orders.decode("utf-8-sig"))))
        assert len(rows) == 2 and rows[1][0] == "SEC-WRLD01" and rows[1][13] == "yes" and rows[1][14] == "7"


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_csv_downloads_use_the_same_filters_and_the_viewers_language(app, world, client):
    with app.app_context():
        person("coordinator").locale = "vi"
        db.session.commit()
    client.post("/login", data={"login": "coordinator", "password": PASSWORD})
    r = client.get("/coordinator/issues.csv?from=2026-03-01&to=2026-03-31&severity=low")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    text = r.data.decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 1  # the header only: the one issue is high
    r = client.get("/coordinator/orders.csv?from=2026-03-01&to=2026-03-31")
    assert "SEC-WRLD01" in r.data.decode("utf-8-sig")


# --- the number of queries does not grow with the data -------------------------------------


def _bulk(world, orders, issues, updates):
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    db.session.execute(insert(Order), [
        {"reference": f"SEC-B{n:06d}", "producer_org_id": world.orgs["farm" if n % 3 else "weaver"],
         "customer_org_id": world.orgs["buyer"], "product": "Rice", "quantity": 10, "unit": "kg",
         "origin": "Takeo", "destination": "Bangkok", "status": ("accepted", "in_transit", "delivered")[n % 3],
         "border_crossing": ("bavet_moc_bai", "aranyaprathet_poipet", None)[n % 3],
         "due_date": date(2026, 1, 1) + timedelta(days=n % 120),
         "created_at": start + timedelta(minutes=n), "last_activity_at": start + timedelta(minutes=n)}
        for n in range(orders)
    ])
    first = db.session.scalar(select(Order.id).where(Order.reference == "SEC-B000000"))
    db.session.execute(insert(Issue), [
        {"order_id": first + n * 4, "producer_org_id": world.orgs["farm" if n * 4 % 3 else "weaver"],
         "customer_org_id": world.orgs["buyer"],
         "border_crossing": ("bavet_moc_bai", "aranyaprathet_poipet", None)[n * 4 % 3],  # = the order's
         "category": ("delay", "quality", "payment")[n % 3],
         "severity": ("low", "medium", "high")[n % 3], "title": f"Bulk {n}", "description": "",
         "state": ("open", "acknowledged", "resolved", "closed", "reopened")[n % 5],
         "raised_by_side": "customer", "created_at": start + timedelta(hours=n % 2000),
         "updated_at": start + timedelta(hours=n % 2000),
         "first_response_at": start + timedelta(hours=n % 2000 + n % 7) if n % 2 else None,
         "resolved_at": start + timedelta(hours=n % 2000 + 30) if n % 5 in (2, 3) else None}
        for n in range(issues)
    ])
    db.session.execute(insert(StatusUpdate), [
        {"order_id": first + n, "status": "dispatched", "recorded_at": start, "occurred_at": start}
        for n in range(updates)
    ])
    db.session.commit()


def _count_queries(app, client, url):
    with app.app_context():
        engine = db.engine
    seen = []

    def count(*_args):
        seen.append(1)

    app.extensions.pop("secgo.figures_drawn", None)  # the promptness figures drawn anew too
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_the_dashboard_needs_as_many_queries_for_20000_orders_as_for_10(app, world, client, who):
    url = "/coordinator?from=2026-01-01&to=2026-12-31"
    with app.app_context():
        _bulk(world, orders=9, issues=3, updates=2)  # 10 orders with the world's
    client.post("/login", data={"login": who, "password": PASSWORD})
    small, _ = _count_queries(app, client, url)
    with app.app_context():
        db.session.execute(Issue.__table__.delete().where(Issue.title.like("Bulk %")))
        db.session.execute(StatusUpdate.__table__.delete())
        db.session.execute(Order.__table__.delete().where(Order.reference.like("SEC-B%")))
        db.session.commit()
        _bulk(world, orders=20_000, issues=5_000, updates=2_000)
        assert db.session.scalar(select(db.func.count()).select_from(Order)) == 20_001
    big, response = _count_queries(app, client, url)
    assert big == small
    page = response.get_data(as_text=True)
    assert page.count('class="card issue-item') == dash.LIST_LIMIT
    # The rest are one tap away: the issues list, waiting for an answer, with the same filters.
    assert '<a class="btn" href="/issues?tab=waiting">All 100+ open issues</a>' in page


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_more_than_100_unconfirmed_updates_show_as_100_plus(app, world, client):
    with app.app_context():
        _bulk(world, orders=200, issues=1, updates=101)
    client.post("/login", data={"login": "admin", "password": PASSWORD})
    page = client.get("/coordinator").get_data(as_text=True)
    assert "<strong>100+</strong><span>Updates unconfirmed for over 24 hours" in page
    with app.app_context():
        db.session.execute(StatusUpdate.__table__.delete().where(
            StatusUpdate.id.in_(select(StatusUpdate.id).limit(2))))
        db.session.commit()
    page = client.get("/coordinator").get_data(as_text=True)
    assert "<strong>99</strong><span>Updates unconfirmed for over 24 hours" in page


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_more_than_100_overdue_orders_show_as_100_plus(app, world, client):
    with app.app_context():
        _bulk(world, orders=160, issues=1, updates=1)  # 2 in 3 of them not delivered, all due long ago
    client.post("/login", data={"login": "admin", "password": PASSWORD})
    page = client.get("/coordinator").get_data(as_text=True)
    assert "<strong>100+</strong><span>Overdue orders" in page
    assert "The 10 most overdue of 100+ orders" in page
    with app.app_context():
        db.session.execute(Order.__table__.update().where(Order.reference.like("SEC-B%"))
                           .values(status="delivered"))
        db.session.commit()
    page = client.get("/coordinator").get_data(as_text=True)
    assert "<strong>1</strong><span>Overdue orders" in page  # the world's own overdue order


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_more_than_100_open_issues_show_as_100_plus_and_fewer_exactly(app, world, client):
    def counts():  # counted here without a cap: open, unanswered (all raised long ago), resolved
        return [db.session.scalar(select(db.func.count()).select_from(Issue).where(where)) for where in (
            Issue.is_open, Issue.awaits_answer, Issue.waits_for_close)]

    with app.app_context():
        _bulk(world, orders=800, issues=170, updates=1)
        assert counts() == [103, 52, 34]  # with the world's own open, unanswered issue
    client.post("/login", data={"login": "admin", "password": PASSWORD})
    page = client.get("/coordinator").get_data(as_text=True)
    assert "<strong>100+</strong><span>Open issues" in page
    assert "All 100+ open issues</a>" in page
    assert "<strong>34</strong><span>Resolved, waiting to be closed" in page
    assert "<strong>52</strong><span>No answer within 48 hours" in page
    with app.app_context():
        # Four answered open issues closed, and 50 unanswered ones answered.
        opened = select(Issue.id).where(Issue.is_open)
        db.session.execute(Issue.__table__.update().where(Issue.id.in_(
            opened.where(Issue.first_response_at.is_not(None)).limit(4).scalar_subquery()))
            .values(state="closed"))
        db.session.execute(Issue.__table__.update().where(Issue.id.in_(
            opened.where(Issue.first_response_at.is_(None)).limit(50).scalar_subquery()))
            .values(first_response_at=datetime(2026, 2, 1, tzinfo=timezone.utc)))
        db.session.commit()
        assert counts() == [99, 2, 34]
    page = client.get("/coordinator").get_data(as_text=True)
    assert "<strong>99</strong><span>Open issues" in page
    assert "All 99 open issues</a>" in page
    assert "<strong>2</strong><span>No answer within 48 hours" in page


@pytest.mark.parametrize("filters", [
    {}, {"border": "bavet_moc_bai"}, {"category": "quality"}, {"country": "KH"},
    {"state": "open", "country": "TH"}, {"border": "aranyaprathet_poipet", "state": "resolved"},
])
def test_the_breakdowns_and_medians_agree_with_the_issues_counted_one_by_one(app, world, filters):
    with app.app_context():
        _bulk(world, orders=1300, issues=301, updates=1)
        issues = db.session.scalars(select(Issue)).all()
        for n, issue in enumerate(issues):  # times to resolution of every length, some none
            if issue.resolved_at is not None or n % 3 == 0:
                issue.resolved_at = issue.created_at + timedelta(minutes=n * 37 % 5000)
        db.session.commit()
        admin = person("admin")
        period = dash.parse_period({"from": "2026-01-05", "to": "2026-01-12"}, NOW)  # some left out
        d = dash.dashboard(admin, filters, period, NOW, 48)

        def wanted(issue):
            order, producer = issue.order, issue.order.producer_org
            checks = {"border": order.border_crossing, "category": issue.category, "state": issue.state,
                      "severity": issue.severity}
            return (period.start <= issue.created_at < period.end
                    and all(checks[k] == v for k, v in filters.items() if k in checks)
                    and ("country" not in filters or filters["country"] in (
                        producer.country, order.customer_org.country)))

        chosen = [i for i in issues if wanted(i)]
        assert len(chosen) > 10

        def tally(key):
            counts = {}
            for issue in chosen:
                counts[key(issue)] = counts.get(key(issue), 0) + 1
            return counts

        def middle(ends):
            values = [(end - i.created_at).total_seconds() for i, end in ends if end is not None]
            return timedelta(seconds=round(median(values))) if values else None

        def shown(pairs):
            return {str(label): n for label, n in pairs}

        assert shown(d["by_cluster"]) == tally(lambda i: i.order.producer_org.cluster.name)
        assert shown(d["by_category"]) == tally(lambda i: str(CATEGORY_LABELS[i.category]))
        assert shown(d["by_border"]) == tally(lambda i: str(BORDER_LABELS.get(i.order.border_crossing)
                                                            or "No border crossing"))
        assert d["median_first_response"] == middle((i, i.first_response_at) for i in chosen)
        assert d["median_resolution"] == middle((i, i.resolved_at) for i in chosen)
