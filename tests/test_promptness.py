"""Promptness, border times and expected arrival: every figure against a hand-computed fixture,
with a frozen clock; the monthly rollup the push worker refreshes; CSVs; the dashboard page."""
import csv
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import event, select

from secgo.coordinator import promptness as pr
from secgo.coordinator import services as dash
from secgo.extensions import db
from secgo.models import DeliveryConfirmation, Order, PromptnessRollup, RollupState, StatusUpdate, utcnow
from tests.factories import PASSWORD
from tests.issue_factories import make_order, person

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
H = 3600


def t(day, hour, minute=0, month=3):
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


def upd(order, status, occurred, recorded, confirmed=None, corrects=None):
    u = StatusUpdate(order_id=order.id, status=status, note="", occurred_at=occurred,
                     recorded_at=recorded, confirmed_at=confirmed, corrects_id=corrects.id if corrects else None)
    db.session.add(u)
    db.session.flush()
    order.last_activity_at = max(order.last_activity_at, recorded, confirmed or recorded)
    return u


def build(world):
    """The fixture the figures below are worked out from by hand (report delays in hours).

    Rice cluster (the coordinator's), all by the farm:
      A farm->buyer, Bavet, due 10 Mar, delivered 8 Mar 06:00 (on time), every milestone:
        dispatched 1 h (confirmed after 2 h), at border 6 h (confirmed after 24 h),
        customs cleared reported 5 Mar 10:30 then corrected to 4 Mar 22:00 (counts once:
        12.5 h, unconfirmed), delivered 0.5 h (confirmed after 2 h), one note (no report).
        Border: 4 Mar 10:00 -> 4 Mar 22:00 = 12 h.
      B farm->other buyer, no crossing, due 5 Mar: dispatched reported 48 h late (offline);
        delivery confirmed by the customer 6 Mar 12:00 (late, no "delivered" report).
      C farm->buyer, Poipet, in transit: at border 3 h (confirmed after 1 h), customs 0 h;
        border 10 Mar 00:00 -> 11 Mar 06:00 = 30 h.
      E farm->buyer, Bavet: at border 28 Feb 20:00 UTC (1 Mar in Bangkok: a February crossing),
        reported 1 h later (February); customs 1 Mar 04:00, reported 2 h later (March); 8 h.
      F, G farm->buyer, Bavet: 2 h and 20 h at the border, reported at once (four 0 h).
    Silk cluster (another coordinator's): D weaver->buyer, Hat Lek, due 1 Mar, delivered
      2 Mar 00:00 (07:00 in Bangkok: late): at border 1 h, customs 0 h (5 h), delivered 10 h.
    """
    farm, weaver = world.orgs["farm"], world.orgs["weaver"]
    buyer, other = world.orgs["buyer"], world.orgs["other_buyer"]
    start = t(1, 0, month=2)
    a = make_order(farm, buyer, border="bavet_moc_bai", due=date(2026, 3, 10), status="delivered", created_at=start)
    upd(a, "dispatched", t(3, 8), t(3, 9), t(3, 11))
    upd(a, "at_border", t(4, 10), t(4, 16), t(5, 16))
    wrong = upd(a, "customs_cleared", t(5, 10), t(5, 10, 30), t(5, 11))
    upd(a, "customs_cleared", t(4, 22), t(6, 9), corrects=wrong)
    upd(a, "delivered", t(8, 6), t(8, 6, 30), t(8, 8, 30))
    upd(a, "note", t(9, 6), t(9, 6))
    b = make_order(farm, other, due=date(2026, 3, 5), status="delivered", created_at=start)
    upd(b, "dispatched", t(2, 8), t(4, 8))
    db.session.add(DeliveryConfirmation(order_id=b.id, received_quantity=Decimal("100"), condition="good",
                                        created_at=t(6, 12)))
    b.last_activity_at = t(6, 12)
    c = make_order(farm, buyer, border="aranyaprathet_poipet", status="customs_cleared", created_at=start)
    upd(c, "at_border", t(10, 0), t(10, 3), t(10, 4))
    upd(c, "customs_cleared", t(11, 6), t(11, 6))
    e = make_order(farm, buyer, border="bavet_moc_bai", status="customs_cleared", created_at=start)
    upd(e, "at_border", t(28, 20, month=2), t(28, 21, month=2))
    upd(e, "customs_cleared", t(1, 4), t(1, 6))
    for day, hours in ((12, 2), (13, 20)):
        f = make_order(farm, buyer, border="bavet_moc_bai", status="customs_cleared", created_at=start)
        upd(f, "at_border", t(day, 0), t(day, 0))
        upd(f, "customs_cleared", t(day, hours), t(day, hours))
    d = make_order(weaver, buyer, border="hat_lek_cham_yeam", due=date(2026, 3, 1), status="delivered",
                   created_at=start)
    upd(d, "at_border", t(1, 0), t(1, 1))
    upd(d, "customs_cleared", t(1, 5), t(1, 5))
    upd(d, "delivered", t(2, 0), t(2, 10))
    db.session.commit()
    return {"a": a.id, "b": b.id, "c": c.id, "d": d.id, "e": e.id}


def rollup(scope, month, dim="all", key=""):
    row = db.session.scalar(select(PromptnessRollup).where(
        PromptnessRollup.scope == scope, PromptnessRollup.month == month,
        PromptnessRollup.dim == dim, PromptnessRollup.key == key))
    return pr.row_figures(row) if row else None


def test_median_and_nearest_rank_p90_are_defined_once():
    assert pr.median_p90([]) == (None, None)
    assert pr.median_p90([5]) == (5, 5)
    assert pr.median_p90([3, 1, 2]) == (2, 3)
    assert pr.median_p90([4, 1, 3, 2]) == (2.5, 4)  # p90 of 4 values: the ceil(3.6) = 4th
    assert pr.median_p90(range(1, 11)) == (5.5, 9)  # the 9th of 10
    assert pr.median_p90(range(1, 12)) == (6, 10)  # ceil(9.9) = the 10th of 11


def test_the_coordinator_sees_hand_computed_promptness_of_their_clusters(app, world):
    with app.app_context():
        build(world)
        assert pr.refresh(NOW) == 2  # February and March
        scope = pr.user_scope(person("coordinator"))
        march = rollup(scope, "2026-03")
        # delays (h): 0 0 0 0 0 0.5 1 2 3 6 12.5 48 -> median (0.5+1)/2, p90 the 11th of 12
        assert march["updates"] == 12
        assert (march["delay_median"], march["delay_p90"]) == (0.8, 12.5)  # 0.75 h, one decimal
        assert march["confirmed_share"] == 33 and march["confirm_median"] == 2.0  # 4 of 12; 1 2 2 24 h
        assert march["delivered"] == 2  # A and B
        assert (march["dispatched_share"], march["at_border_share"], march["customs_share"],
                march["delivered_share"], march["on_time_share"]) == (100, 100, 50, 50, 50)
        february = rollup(scope, "2026-02")
        assert february["updates"] == 1 and february["delay_median"] == 1.0
        assert february["shipments"] == 1 and february["border_median"] == 8.0
        # per customer: the other buyer's one update was 48 h late
        other = rollup(scope, "2026-03", "customer", str(world.orgs["other_buyer"]))
        assert (other["updates"], other["delay_median"], other["confirmed_share"]) == (1, 48.0, 0)
        buyer = rollup(scope, "2026-03", "customer", str(world.orgs["buyer"]))
        assert (buyer["updates"], buyer["delay_median"], buyer["delay_p90"]) == (11, 0.5, 6.0)
        farm = rollup(scope, "2026-03", "producer", str(world.orgs["farm"]))
        assert farm == {**march, "month_start": farm["month_start"]}
        cluster = rollup(scope, "2026-03", "cluster", str(world.clusters["rice"]))
        assert cluster["updates"] == 12
        # nothing of the silk cluster
        assert rollup(scope, "2026-03", "producer", str(world.orgs["weaver"])) is None
        assert rollup(scope, "2026-03", "crossing", "hat_lek_cham_yeam") is None


def test_the_admin_sees_every_cluster_in_the_figures(app, world):
    with app.app_context():
        build(world)
        pr.refresh(NOW)
        march = rollup("all", "2026-03")
        # + D: 1 h, 0 h, 10 h -> 15 delays, median the 8th (1 h), p90 the 14th (12.5 h)
        assert (march["updates"], march["delay_median"], march["delay_p90"]) == (15, 1.0, 12.5)
        assert march["delivered"] == 3 and march["on_time_share"] == 33  # A of A, B, D
        assert rollup("all", "2026-03", "crossing", "hat_lek_cham_yeam")["border_median"] == 5.0


def test_border_times_csv_has_exactly_the_agreed_columns(app, world):
    with app.app_context():
        build(world)
        pr.refresh(NOW)
        period = dash.parse_period({"from": "2026-02-01", "to": "2026-03-31"}, NOW)
        body = pr.borders_csv(person("coordinator"), period)
        assert body.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert rows == [
            ["crossing", "month", "shipments", "median_hours", "p90_hours"],
            ["aranyaprathet_poipet", "2026-03", "1", "30.0", "30.0"],
            ["bavet_moc_bai", "2026-02", "1", "8.0", "8.0"],  # 28 Feb 20:00 UTC is February
            ["bavet_moc_bai", "2026-03", "3", "12.0", "20.0"],  # 2, 12 (corrected), 20 h
        ]
        admin = pr.borders_csv(person("admin"), period).decode("utf-8-sig")
        assert "hat_lek_cham_yeam,2026-03,1,5.0,5.0" in admin
        silk = pr.borders_csv(person("other_coordinator"), period).decode("utf-8-sig")
        assert silk.splitlines() == ["crossing,month,shipments,median_hours,p90_hours",
                                     "hat_lek_cham_yeam,2026-03,1,5.0,5.0"]


def test_border_time_leaves_out_orders_lacking_either_update(app, world):
    """April at Poipet: one whole crossing (4 h); one order only at the border, one only cleared,
    one cleared before it reached the border (a wrong clock), one whose at-border was corrected
    into a plain 'in transit': none of these four counts."""
    with app.app_context():
        farm, buyer = world.orgs["farm"], world.orgs["buyer"]

        def order(*steps):
            o = make_order(farm, buyer, border="aranyaprathet_poipet", status="customs_cleared",
                           created_at=t(1, 0, month=4))
            made = [upd(o, status, t(day, hour, month=4), t(day, hour, month=4)) for status, day, hour in steps]
            return o, made

        order(("at_border", 2, 0), ("customs_cleared", 2, 4))
        order(("at_border", 3, 0))
        order(("customs_cleared", 4, 0))
        order(("at_border", 5, 9), ("customs_cleared", 5, 1))
        o, (wrong, _cleared) = order(("at_border", 6, 0), ("customs_cleared", 6, 10))
        upd(o, "in_transit", t(6, 0, month=4), t(6, 11, month=4), corrects=wrong)
        db.session.commit()
        pr.refresh(t(20, 12, month=4))
        period = dash.parse_period({"from": "2026-04-01", "to": "2026-04-30"}, NOW)
        assert pr.borders_csv(person("admin"), period).decode("utf-8-sig").splitlines() == [
            "crossing,month,shipments,median_hours,p90_hours", "aranyaprathet_poipet,2026-04,1,4.0,4.0"]


def test_the_weekly_summary_counts_what_the_user_may_see_in_that_week(app, world):
    with app.app_context():
        build(world)
        week = pr.week_summary(person("coordinator"), t(2, 0), t(9, 0))
        # A: 1, 6, 12.5, 0.5 h; B: 48 h -> median 6 h; 3 of 5 confirmed; A on time, B late
        assert week == {"updates": 5, "delay_median_hours": 6.0, "confirmed_share": 60, "delivered": 2,
                        "on_time_share": 50, "shipments": 1, "border_median_hours": 12.0}
        producer = pr.week_summary(person("other_producer"), t(2, 0), t(9, 0))
        assert producer["updates"] == 1 and producer["delay_median_hours"] == 10.0  # D's delivered
        assert pr.week_summary(person("other_customer"), t(9, 0), t(16, 0))["updates"] == 0


def test_a_late_correction_moves_the_figures_at_the_next_refresh(app, world):
    with app.app_context():
        ids = build(world)
        pr.refresh(NOW)
        scope = pr.user_scope(person("coordinator"))
        assert rollup(scope, "2026-02", "crossing", "bavet_moc_bai")["shipments"] == 1
        # E's "at border" was really on 1 Mar 02:00 (UTC): the crossing moves to March (2 h)
        e = db.session.get(Order, ids["e"])
        first = db.session.scalar(select(StatusUpdate).where(StatusUpdate.order_id == e.id,
                                                             StatusUpdate.status == "at_border"))
        later = NOW + timedelta(minutes=5)
        upd(e, "at_border", t(1, 2), later, corrects=first)
        db.session.commit()
        assert pr.refresh(later) == 2
        assert rollup(scope, "2026-02", "crossing", "bavet_moc_bai")["shipments"] == 0
        assert rollup(scope, "2026-03", "crossing", "bavet_moc_bai")["shipments"] == 4
        # looked at once more (a write's time is taken before it commits), then left alone
        assert pr.refresh(later + timedelta(minutes=15)) == 2
        assert pr.refresh(later + timedelta(minutes=20)) == 0


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_producer_moved_to_another_cluster_leaves_its_old_coordinators_figures(app, world, client):
    """No order changed, yet the farm's past months are no longer the rice coordinator's to see:
    the next refresh computes them again, for both coordinators."""
    period = dash.parse_period({"from": "2026-02-01", "to": "2026-03-31"}, NOW)
    with app.app_context():
        build(world)
        pr.refresh(NOW)
        rice, silk = pr.user_scope(person("coordinator")), pr.user_scope(person("other_coordinator"))
        assert rollup(rice, "2026-03", "producer", str(world.orgs["farm"]))["updates"] == 12
    client.post("/login", data={"login": "admin", "password": PASSWORD})
    r = client.post(f"/admin/organizations/{world.orgs['farm']}", data={
        "name": "Takeo Rice Coop", "kind": "producer", "country": "KH", "province": "",
        "cluster": str(world.clusters["silk"])})
    assert r.status_code == 303
    with app.app_context():
        assert pr.refresh(NOW + timedelta(minutes=5)) == 2  # February and March, though no order moved
        assert rollup(rice, "2026-03", "producer", str(world.orgs["farm"])) is None
        assert rollup(rice, "2026-03") is None and rollup(rice, "2026-02") is None
        assert pr.borders_csv(person("coordinator"), period).decode("utf-8-sig").splitlines() == [
            "crossing,month,shipments,median_hours,p90_hours"]
        assert rollup(silk, "2026-03", "producer", str(world.orgs["farm"]))["updates"] == 12
        assert rollup(silk, "2026-03")["updates"] == 15  # the farm's 12 and the weaver's 3
        assert "bavet_moc_bai,2026-03,3,12.0,20.0" in pr.borders_csv(person("other_coordinator"), period).decode()
        # The move was asked at the real clock: refreshes after it compute everything once more
        # (a move committed while a refresh ran may have been missed), then only what changed.
        later = utcnow() + timedelta(minutes=1)
        assert pr.refresh(later) > 0 and pr.refresh(later + timedelta(minutes=15)) > 0
        assert pr.refresh(later + timedelta(minutes=30)) == 0


def test_a_coordinator_whose_clusters_have_no_figures_costs_the_refresh_nothing_after_the_first(app, world):
    with app.app_context():
        silk = pr.user_scope(person("other_coordinator"))
        assert pr.refresh(NOW) > 0  # every month of the world's order, for every scope
        assert rollup(silk, "2026-03") is None  # the silk cluster has no order
        assert pr.refresh(NOW + timedelta(minutes=5)) == 0  # not taken for a new coordinator again


def test_only_one_worker_refreshes_at_a_time(app, world):
    with app.app_context():
        build(world)
        db.session.add(RollupState(name=pr.STATE, lease_until=NOW + timedelta(minutes=5), lease_token="x",
                                   refreshed_at=NOW))
        db.session.commit()
        assert pr.refresh(NOW) == 0  # another worker holds the lease
        assert db.session.scalar(select(db.func.count()).select_from(PromptnessRollup)) == 0
        assert pr.refresh(NOW + timedelta(minutes=6)) == 2  # its lease ran out: this one takes over


def test_the_push_worker_keeps_the_figures_fresh(app, world, runner):
    with app.app_context():
        build(world)
    result = runner.invoke(args=["push-worker", "--once"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert rollup("all", "2026-03")["updates"] == 15


def _route_order(world, dispatched, delivered, status="delivered", border=None):
    order = make_order(world.orgs["farm"], world.orgs["buyer"], status=status, border=border,
                       created_at=t(1, 0, month=1))
    upd(order, "dispatched", dispatched, dispatched)
    if delivered:
        upd(order, "delivered", delivered, delivered)
    return order


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_customer_sees_an_estimated_arrival_after_five_deliveries_on_the_route(app, world, client):
    with app.app_context():
        for n, days in enumerate((2, 3, 3, 4)):
            _route_order(world, t(1 + n, 8, month=2), t(1 + n, 8, month=2) + timedelta(days=days))
        _route_order(world, t(1, 8, month=2), t(1, 8, month=2) + timedelta(days=6),
                     border="bavet_moc_bai")  # another route: through a border
        moving = _route_order(world, t(10, 8), None, status="in_transit").reference
        db.session.commit()
        pr.refresh(NOW)
        assert pr.expected_arrival(db.session.scalar(select(Order).where(Order.reference == moving))) is None
        fifth = _route_order(world, t(20, 8, month=2), t(26, 8, month=2))  # 6 days
        fifth.last_activity_at = NOW + timedelta(minutes=1)  # confirmed just now
        db.session.commit()
        pr.refresh(NOW + timedelta(minutes=5))
        order = db.session.scalar(select(Order).where(Order.reference == moving))
        # 2 3 3 4 6 days: nearest-rank quartiles, the 2nd and the 4th
        assert pr.expected_arrival(order) == {"deliveries": 5, "low": 3, "high": 4}
        person("customer").locale = "th"
        db.session.commit()
    client.post("/login", data={"login": "customer", "password": PASSWORD})
    html = client.get(f"/orders/{moving}").get_data(as_text=True)
    assert "3–4" in html and 'class="arrival"' in html
    client.post("/logout")
    client.post("/login", data={"login": "producer", "password": PASSWORD})
    html = client.get(f"/orders/{moving}").get_data(as_text=True)
    assert "Usually arrives 3–4 days after dispatch" in html
    assert "An estimate from 5 earlier deliveries on this route." in html


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_delivered_order_shows_no_estimate(app, world, client):
    with app.app_context():
        for n in range(5):
            _route_order(world, t(1 + n, 8, month=2), t(3 + n, 8, month=2))
        db.session.commit()
        pr.refresh(NOW)
        ref = _route_order(world, t(10, 8), t(12, 8)).reference
        db.session.commit()
    client.post("/login", data={"login": "customer", "password": PASSWORD})
    assert 'class="arrival"' not in client.get(f"/orders/{ref}").get_data(as_text=True)


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_dashboard_shows_promptness_and_border_charts_with_tables(app, world, client, monkeypatch):
    with app.app_context():
        build(world)
        pr.refresh(NOW)
        person("coordinator").locale = "km"
        db.session.commit()
    monkeypatch.setattr("secgo.coordinator.routes.utcnow", lambda: NOW)
    client.post("/login", data={"login": "coordinator", "password": PASSWORD})
    html = client.get("/coordinator?from=2026-02-01&to=2026-03-31").get_data(as_text=True)
    assert 'id="promptness"' in html and 'id="border-times"' in html
    main = html.split("<main", 1)[1]
    assert "style=" not in main
    assert main.count('<svg class="bars"') == 3 + 4  # the issue charts, three trend charts, one border chart
    assert main.count('<table class="sr-only">') + main.count('<div class="sr-only"><table>') == 3 + 4
    assert "Takeo Rice Coop" in main and "Lao Silk Weavers" not in main
    assert "/coordinator/borders.csv?" in main and "/coordinator/promptness.csv?" in main
    # March in the month-by-month table, and Bavet's March in the border table: the hand-computed
    # figures (test_the_coordinator_sees_hand_computed_promptness_of_their_clusters)
    assert ("<td>12</td><td>0.8</td><td>12.5</td>\n    <td>33%</td><td>2.0</td><td>2</td>\n"
            "    <td>100%</td><td>100%</td><td>50%</td>\n    <td>50%</td><td>50%</td></tr>") in main
    assert "<td>3</td><td>12.0</td><td>20.0</td></tr>" in main
    # another month for the tables
    html = client.get("/coordinator?from=2026-02-01&to=2026-03-31&month=2026-02").get_data(as_text=True)
    assert '<option value="2026-02" selected>' in html
    with app.app_context():
        person("coordinator").locale = "vi"  # a decimal comma
        db.session.commit()
    html = client.get("/coordinator?from=2026-02-01&to=2026-03-31").get_data(as_text=True)
    assert "<td>12</td><td>0,8</td><td>12,5</td>" in html and "<td>3</td><td>12,0</td><td>20,0</td></tr>" in html


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_dashboard_says_when_it_shows_only_the_slowest_reporters(app, world, client, monkeypatch):
    with app.app_context():
        build(world)
        pr.refresh(NOW)
    client.post("/login", data={"login": "coordinator", "password": PASSWORD})
    url = "/coordinator?from=2026-03-01&to=2026-03-31"
    html = client.get(url).get_data(as_text=True)
    assert "slowest are shown here" not in html  # one producer and two customers: all of them
    assert html.count("<th scope=\"row\">Bangkok Buyer</th>") == 1
    monkeypatch.setattr(pr, "BREAKDOWN_ROWS", 1)
    app.extensions.pop("secgo.figures_drawn", None)  # drawn once per refresh: draw again
    html = client.get(url).get_data(as_text=True)
    customers = html.split('id="by-customer-t"', 1)[1].split("</table>", 1)[0]
    # the other buyer's update came 48 h late: the slowest of the two
    assert "Saigon Buyer" in customers and "Bangkok Buyer" not in customers
    assert html.count("Only the 1 slowest are shown here; the promptness CSV has every one.") == 3


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_promptness_csv_is_per_group_and_month_in_the_viewers_language(app, world, client):
    with app.app_context():
        build(world)
        pr.refresh(NOW)
    client.post("/login", data={"login": "coordinator", "password": PASSWORD})
    r = client.get("/coordinator/promptness.csv?from=2026-03-01&to=2026-03-31")
    assert r.status_code == 200 and r.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Group", "Name", "Month", "Status updates", "Report delay, median (hours)"]
    everyone = next(row for row in rows if row[0] == "Everyone")
    assert everyone[2:6] == ["2026-03", "12", "0.8", "12.5"]
    farm = next(row for row in rows if row[0] == "Producer")
    assert farm[1] == "Takeo Rice Coop" and farm[13] == "50%"
    assert not any(row[1] == "Lao Silk Weavers" for row in rows)
    assert {row[0] for row in rows[1:]} == {"Everyone", "Cluster", "Producer", "Customer", "Border crossing"}
    with app.app_context():
        person("coordinator").locale = "th"
        db.session.commit()
        with force_locale("th"):
            thai = [str(gettext(text)) for text in ("Group", "Name", "Month", "Everyone", "Producer")]
    assert thai[0] != "Group"
    rows = list(csv.reader(io.StringIO(client.get("/coordinator/promptness.csv?from=2026-03-01&to=2026-03-31")
                                       .data.decode("utf-8-sig"))))
    assert rows[0][:3] == thai[:3]
    assert [row[0] for row in rows if row[0] == thai[3]] == [thai[3]]
    assert next(row for row in rows if row[0] == thai[4])[1] == "Takeo Rice Coop"


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_hostile_inputs_on_the_new_downloads_are_ignored_not_a_crash(app, world, client):
    client.post("/login", data={"login": "coordinator", "password": PASSWORD})
    for query in ("from=9999-12-31&to=0001-01-01", "from=2026-13-45", "month=" + "9" * 400,
                  "month=2026-13", "month=<script>", "from=2000-01-01&to=2100-12-31&month=2100-12",
                  "cluster=" + "9" * 40, "border=../../etc"):
        for path in ("/coordinator", "/coordinator/borders.csv", "/coordinator/promptness.csv"):
            r = client.get(f"{path}?{query}")
            assert r.status_code == 200, (path, query)
    r = client.get("/coordinator/borders.csv?from=2000-01-01&to=2100-12-31")
    assert r.data.decode("utf-8-sig").strip() == "crossing,month,shipments,median_hours,p90_hours"


def _count_queries(app, client, url):
    with app.app_context():
        engine = db.engine
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen)


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_the_promptness_section_needs_as_many_queries_for_many_months_as_for_none(app, world, client, who):
    url = "/coordinator?from=2024-01-01&to=2026-03-31"
    client.post("/login", data={"login": who, "password": PASSWORD})
    empty = _count_queries(app, client, url)
    with app.app_context():
        build(world)
        for n in range(24):  # an order delivered every month for two years
            moment = datetime(2024 + n // 12, n % 12 + 1, 10, tzinfo=timezone.utc)
            order = make_order(world.orgs["farm"], world.orgs["buyer"], status="delivered",
                               border="bavet_moc_bai", created_at=moment)
            upd(order, "at_border", moment, moment)
            upd(order, "customs_cleared", moment + timedelta(hours=n), moment + timedelta(hours=n))
            upd(order, "delivered", moment + timedelta(days=2), moment + timedelta(days=2))
        db.session.commit()
        pr.refresh(NOW)
    assert _count_queries(app, client, url) == empty


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_figures_are_drawn_once_per_refresh_and_a_refresh_shows_at_once(app, world, client):
    url = "/coordinator?from=2026-02-01&to=2026-03-31"
    client.post("/login", data={"login": "coordinator", "password": PASSWORD})
    first = _count_queries(app, client, url)
    before = client.get(url).get_data(as_text=True)
    assert "No reports in this period yet" in before
    assert _count_queries(app, client, url) < first  # drawn once, kept until the next refresh
    with app.app_context():
        build(world)
        pr.refresh(NOW)
    after = client.get(url).get_data(as_text=True)
    assert "No reports in this period yet" not in after and "Takeo Rice Coop" in after.split('id="promptness"')[1]
    # Another language, another month: each drawn in its own words and for its own month.
    html = client.get(url + "&month=2026-02").get_data(as_text=True)
    assert '<option value="2026-02" selected>' in html
    with app.app_context():
        person("coordinator").locale = "km"
        db.session.commit()
    khmer = client.get(url).get_data(as_text=True).split('id="promptness"')[1]
    assert "របាយការណ៍មកដល់លឿនប៉ុណ្ណា" in khmer and "How promptly" not in khmer


def test_a_scope_of_several_clusters_shows_the_same_figures_as_counting_its_orders_together():
    """The refresh tallies each cluster once and joins them per coordinator's set of clusters:
    every median, p90 and count must be what counting the set's orders together gives."""
    import random

    rnd = random.Random(4)
    facts = []
    for i in range(300):
        cluster = rnd.choice([1, 2, 3, None])
        f = pr.OrderFacts(i, cluster, 100 + (i % 7), 200 + (i % 5), rnd.choice([None, "bavet_moc_bai"]),
                          ("KH", "", 200 + (i % 5), ""))
        for _k in range(rnd.randrange(1, 4)):
            f.updates.append((t(1 + rnd.randrange(27), 8), rnd.randrange(0, 9 * H),
                              rnd.choice([None, rnd.randrange(0, 30 * H)])))
        if rnd.random() < 0.5:
            f.delivered_at = t(1 + rnd.randrange(27), 9)
            f.milestones = frozenset(rnd.sample(["dispatched", "at_border", "customs_cleared", "delivered"], 2))
            f.on_time = rnd.choice([None, True, False])
        if rnd.random() < 0.3:
            f.border = (t(1 + rnd.randrange(27), 10), rnd.random() * 40)
        facts.append(f)
    per_cluster = {c: pr.tally([f for f in facts if f.cluster_id == c]) for c in (1, 2, 3, None)}
    for clusters in ({1}, {1, 2}, {2, 3}, {1, 2, 3}, None):
        chosen = [f for f in facts if clusters is None or f.cluster_id in clusters]
        alone = pr.tally(chosen)
        joined = pr.joined_tallies([t_ for c, t_ in per_cluster.items() if clusters is None or c in clusters])
        assert {k: v.figures() for k, v in joined.items()} == {k: v.figures() for k, v in alone.items()}
    # joining left each cluster's own tally as it was
    assert {k: v.figures() for k, v in per_cluster[1].items()} == {
        k: v.figures() for k, v in pr.tally([f for f in facts if f.cluster_id == 1]).items()}
