"""Business matching followed up: events and matches (pages and API, exactly once), steps by the
coordinator (dated, audited), orders that move a match on by themselves (page and API, once),
the impact report (page, CSV, API), who sees what, and hostile input."""
import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest
from zoneinfo import ZoneInfo
from sqlalchemy import func, select

from secgo.config import Config
from secgo.extensions import db
from secgo.models import AuditEvent, Match, MatchingEvent, MatchStep, Order, Organization
from tests.factories import PASSWORD
from tests.issue_factories import make_order

pytestmark = pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}],
                                     indirect=True)
JSON = {"Accept": "application/json"}


def today():
    # Today where the test world's people are (and the corridor's default zone): after 17:00
    # UTC it is already tomorrow in Bangkok, where steps and first orders are dated.
    """The app's today (Asia/Bangkok), read when a test needs it: a run may cross midnight."""
    return datetime.now(ZoneInfo(Config.BABEL_DEFAULT_TIMEZONE)).date()


HELD = today() - timedelta(days=40)


def after_event(days, hour_utc=5):
    """A moment `days` after the event's day (noon in Bangkok)."""
    return datetime.combine(HELD + timedelta(days=days), time(hour_utc), UTC)


def login(client, name):
    r = client.post("/login", data={"login": name, "password": PASSWORD})
    assert r.status_code == 302, name
    return client


def new_event(client, world, **fields):
    data = {"name": "Phnom Penh forum", "held_on": HELD.isoformat(), "place": "Sokha Hotel",
            "producers": [str(world.orgs["farm"])], "buyers": [str(world.orgs["buyer"])],
            "client_id": "event-0001", **fields}
    return client.post("/matching/new", data=data)


def event_id(app, name="Phnom Penh forum"):
    with app.app_context():
        return db.session.scalar(select(MatchingEvent.id).where(MatchingEvent.name == name))


def add_match(client, world, event, **fields):
    return client.post(f"/matching/{event}/matches", data={
        "buyer_org_id": str(world.orgs["buyer"]), "producer_org_id": str(world.orgs["farm"]),
        "products": "Organic jasmine rice, brown rice", "client_id": "match-0001", **fields})


def the_match(app):
    with app.app_context():
        match = db.session.scalar(select(Match))
        return match.id if match else None


def stage(app, match_id):
    with app.app_context():
        m = db.session.get(Match, match_id)
        return m.stage, m.first_order_on, m.repeat_order_on, [(s.stage, s.order_id is not None) for s in m.steps]


@pytest.fixture
def coordinator(app, world):
    return login(app.test_client(), "coordinator")


@pytest.fixture
def matched(app, world, coordinator):
    """An event 40 days ago (farm and buyer took part) with one match between them; its id."""
    assert new_event(coordinator, world).status_code == 303
    assert add_match(coordinator, world, event_id(app)).status_code == 303
    return the_match(app)


# --- events and matches -------------------------------------------------------------------

def test_a_coordinator_records_an_event_and_its_match_once_whatever_the_replays(app, world, coordinator):
    r = new_event(coordinator, world)
    assert r.status_code == 303
    assert new_event(coordinator, world).status_code == 303  # the same client_id: no second event
    event = event_id(app)
    assert r.headers["Location"].endswith(f"/matching/{event}")
    assert add_match(coordinator, world, event).status_code == 303
    assert add_match(coordinator, world, event).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MatchingEvent)) == 1
        assert db.session.scalar(select(func.count()).select_from(Match)) == 1
    page = coordinator.get(f"/matching/{event}").get_data(as_text=True)
    assert "Phnom Penh forum" in page and "Bangkok Buyer" in page and "Matched" in page
    assert "Phnom Penh forum" in coordinator.get("/matching").get_data(as_text=True)
    # The same pair again (another client_id) is refused with the reason, on the page.
    r = add_match(coordinator, world, event, client_id="match-0002")
    assert r.status_code == 422 and "already matched" in r.get_data(as_text=True)


def test_editing_an_event_keeps_an_organization_that_has_a_match(app, world, coordinator, matched):
    event = event_id(app)
    r = coordinator.post(f"/matching/{event}/edit", data={
        "name": "Renamed forum", "held_on": HELD.isoformat(), "producers": [str(world.orgs["farm"])],
        "buyers": [], "client_id": "edit-0001"})
    assert r.status_code == 422 and "stays on it" in r.get_data(as_text=True)
    r = coordinator.post(f"/matching/{event}/edit", data={
        "name": "Renamed forum", "held_on": HELD.isoformat(), "producers": [str(world.orgs["farm"])],
        "buyers": [str(world.orgs["buyer"]), str(world.orgs["other_buyer"])], "client_id": "edit-0002"})
    assert r.status_code == 303
    with app.app_context():
        assert {o.name for o in db.session.get(MatchingEvent, event).organizations} == {
            "Takeo Rice Coop", "Bangkok Buyer", "Saigon Buyer"}


def test_each_step_is_dated_audited_and_dropping_needs_a_reason(app, world, coordinator, matched):
    r = coordinator.post(f"/matching/matches/{matched}/stage", data={
        "stage": "contacted", "on": (HELD + timedelta(days=2)).isoformat(), "client_id": "step-0001"})
    assert r.status_code == 303
    r = coordinator.post(f"/matching/matches/{matched}/stage", data={"stage": "dropped", "client_id": "step-0002"})
    assert r.status_code == 422 and "Say why" in r.get_data(as_text=True)
    for day, message in (((today() + timedelta(days=1)).isoformat(), "future"),
                         ((HELD - timedelta(days=1)).isoformat(), "before the event"),
                         ("31/12/2026", "YYYY-MM-DD")):
        r = coordinator.post(f"/matching/matches/{matched}/stage", data={
            "stage": "sample_sent", "on": day, "client_id": f"step-{len(message)}-refused"})
        assert r.status_code == 422 and message in r.get_data(as_text=True), day
    r = coordinator.post(f"/matching/matches/{matched}/stage", data={
        "stage": "dropped", "reason": "<script>alert(1)</script> price too high", "client_id": "step-0003"})
    assert r.status_code == 303
    page = coordinator.get(f"/matching/matches/{matched}").get_data(as_text=True)
    assert "No longer pursued" in page and "<script>alert" not in page and "&lt;script&gt;" in page
    assert stage(app, matched)[0] == "dropped"
    with app.app_context():
        audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "match_stage_changed")).all()
        assert [(a.details["from"], a.details["to"]) for a in audits] == [
            ("matched", "contacted"), ("contacted", "dropped")]
        assert {a.organization_id for a in audits} == {world.orgs["farm"]}


def test_a_coordinator_edits_a_matchs_products_and_its_buyer_cannot(app, world, coordinator, matched):
    r = coordinator.post(f"/matching/matches/{matched}", data={"products": "Rice bran", "note": "Call in May",
                                                              "client_id": "edit-match-1"})
    assert r.status_code == 303
    r = coordinator.post(f"/matching/matches/{matched}", data={"products": "", "client_id": "edit-match-2"})
    assert r.status_code == 422 and "Please fill this in." in r.get_data(as_text=True)
    buyer = login(app.test_client(), "customer")
    assert buyer.post(f"/matching/matches/{matched}", data={"products": "x"}).status_code == 403
    with app.app_context():
        match = db.session.get(Match, matched)
        assert (match.products, match.note) == ("Rice bran", "Call in May")


# --- orders move a match on ---------------------------------------------------------------

ORDER = {"product": "Organic jasmine rice", "quantity": "500", "unit": "kg", "origin": "Takeo",
         "destination": "Bangkok", "value": "1200", "currency": "USD"}


def test_orders_placed_by_page_and_api_move_the_match_to_first_then_repeat_order_once(app, world, matched):
    buyer = login(app.test_client(), "customer")
    # Through the page's form (the customer chooses the producer) ...
    r = buyer.post("/orders/new", data={**ORDER, "producer_org_id": str(world.orgs["farm"]),
                                        "client_id": "order-page-0001"})
    assert r.status_code == 303
    assert stage(app, matched)[:3] == ("first_order", today(), None)
    # ... a replay of the same order creates nothing and moves nothing ...
    buyer.post("/orders/new", data={**ORDER, "producer_org_id": str(world.orgs["farm"]),
                                    "client_id": "order-page-0001"})
    assert stage(app, matched)[0] == "first_order"
    # ... and through the API, twice with one key: the second order, once.
    for _ in range(2):
        r = buyer.post("/api/v1/orders", json={**ORDER, "producer_org_id": world.orgs["farm"]},
                       headers={"Idempotency-Key": "order-api-00001"})
        assert r.status_code == 201
    state, first, repeat, steps = stage(app, matched)
    assert (state, first, repeat) == ("repeat_order", today(), today())
    assert steps == [("matched", False), ("first_order", True), ("repeat_order", True)]
    # A third order changes nothing more.
    buyer.post("/api/v1/orders", json={**ORDER, "producer_org_id": world.orgs["farm"]},
               headers={"Idempotency-Key": "order-api-00002"})
    assert len(stage(app, matched)[3]) == 3
    page = login(app.test_client(), "coordinator").get(f"/matching/matches/{matched}").get_data(as_text=True)
    assert "by order SEC-" in page


def test_only_orders_of_the_pair_since_the_event_count_and_a_match_made_later_catches_up(app, world, coordinator):
    with app.app_context():
        before = after_event(-20)
        make_order(world.orgs["farm"], world.orgs["buyer"], created_at=before)  # before the event
        make_order(world.orgs["farm"], world.orgs["other_buyer"], created_at=after_event(5))  # another buyer
        make_order(world.orgs["farm"], world.orgs["buyer"], created_at=after_event(3),
                   status="cancelled")  # cancelled
        counted = make_order(world.orgs["farm"], world.orgs["buyer"], created_at=after_event(12)).reference
        db.session.commit()
    assert new_event(coordinator, world).status_code == 303
    assert add_match(coordinator, world, event_id(app)).status_code == 303
    match = the_match(app)
    # Only the order placed after the event, not cancelled, between the two, counts: on its day.
    assert stage(app, match)[:2] == ("first_order", HELD + timedelta(days=12))
    with app.app_context():
        step = db.session.scalar(select(MatchStep).where(MatchStep.stage == "first_order"))
        assert db.session.get(Order, step.order_id).reference == counted


def test_a_dropped_match_that_orders_again_is_back_on_and_nothing_moves_backwards(app, world, coordinator, matched):
    from secgo.matching.services import follow_orders

    coordinator.post(f"/matching/matches/{matched}/stage", data={"stage": "dropped", "reason": "quiet",
                                                               "client_id": "drop-0001"})
    with app.app_context():
        make_order(world.orgs["farm"], world.orgs["buyer"], created_at=after_event(30))
        match = db.session.get(Match, matched)
        assert follow_orders(match) == 1  # an order since the event: back on
        assert follow_orders(match) == 0  # again: nothing
        db.session.commit()
    assert stage(app, matched)[0] == "first_order"


# --- the impact report --------------------------------------------------------------------

def test_the_impact_report_counts_shares_median_and_value_per_currency(app, world, coordinator, matched):
    with app.app_context():
        org = db.session.get(Organization, world.orgs["buyer"])
        org.name = "=HYPERLINK(\"http://evil\")"  # a formula must not run in the spreadsheet
        o = make_order(world.orgs["farm"], world.orgs["buyer"], created_at=after_event(9))
        o.value, o.currency = 1500, "THB"
        make_order(world.orgs["farm"], world.orgs["buyer"], created_at=after_event(20))  # no value
        db.session.commit()
    from secgo.matching.services import follow_orders

    with app.app_context():
        follow_orders(db.session.get(Match, matched))
        db.session.commit()
    event = event_id(app)
    r = coordinator.get(f"/api/v1/matching-events/{event}/report")
    assert r.status_code == 200
    data = r.get_json()
    assert (data["matches"], data["first_order"], data["repeat_order"]) == (1, 1, 1)
    assert data["first_order_share"] == 100 and data["median_days_to_first_order"] == 9
    assert data["value_by_currency"] == {"THB": "1500.00"} and data["orders_without_value"] == 1
    page = coordinator.get(f"/matching/{event}/report").get_data(as_text=True)
    assert "<svg" in page and "Matches by stage" in page and "<table" in page
    assert "฿1,500.00" in page or "THB" in page
    body = coordinator.get(f"/matching/{event}/report.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][-1] == "Value (THB)" and len(rows) == 2
    assert rows[1][2].startswith("'=HYPERLINK") and rows[1][5] == "Repeat order" and rows[1][10] == "9"


# --- who sees what ------------------------------------------------------------------------

def test_the_two_organizations_read_their_match_and_nobody_else_sees_it(app, world, matched):
    for name in ("producer", "customer"):
        client = login(app.test_client(), name)
        page = client.get(f"/matching/matches/{matched}").get_data(as_text=True)
        assert "Bangkok Buyer" in page and "Move to another stage" not in page
        other_side = "Bangkok Buyer" if name == "producer" else "Takeo Rice Coop"
        assert other_side in client.get("/matching").get_data(as_text=True)
        r = client.post(f"/api/v1/matches/{matched}/stage", json={"stage": "contacted"})
        assert r.status_code == 403
        assert [m["id"] for m in client.get("/api/v1/matches").get_json()["items"]] == [matched]
    for name in ("other_producer", "other_customer", "other_coordinator"):
        client = login(app.test_client(), name)
        assert client.get(f"/matching/matches/{matched}").status_code == 404
        assert client.get(f"/api/v1/matches/{matched}").status_code == 404
        assert client.get("/api/v1/matches").get_json()["items"] == []
    silk = login(app.test_client(), "other_coordinator")
    assert silk.get(f"/matching/{event_id(app)}/report.csv").status_code == 404


def test_the_api_records_an_event_a_match_and_a_step_exactly_once(app, world, coordinator):
    body = {"name": "Vientiane forum", "held_on": HELD.isoformat(), "place": "Lao ITECC",
            "organization_ids": [world.orgs["farm"], world.orgs["buyer"]]}
    first = coordinator.post("/api/v1/matching-events", json=body, headers={"Idempotency-Key": "api-event-1"})
    again = coordinator.post("/api/v1/matching-events", json=body, headers={"Idempotency-Key": "api-event-1"})
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    event = first.get_json()["id"]
    r = coordinator.post(f"/api/v1/matching-events/{event}/matches", json={
        "buyer_org_id": world.orgs["buyer"], "producer_org_id": world.orgs["farm"], "products": "rice"})
    assert r.status_code == 201 and r.get_json()["stage"] == "matched"  # the world's order is older
    match = r.get_json()["id"]
    r = coordinator.post(f"/api/v1/matches/{match}/stage", json={"stage": "sample_sent"},
                         headers={"Idempotency-Key": "api-step-1"})
    assert r.status_code == 201 and r.get_json()["stage"] == "sample_sent"
    assert [e["id"] for e in coordinator.get("/api/v1/matching-events").get_json()["items"]] == [event]
    assert coordinator.get(f"/api/v1/matching-events/{event}").get_json()["matches"][0]["id"] == match


# --- hostile input ------------------------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ({"name": "F", "held_on": "2026-01-01", "organization_ids": "1,2"}, "organization_ids"),
    ({"name": "F", "held_on": "2026-01-01", "organization_ids": [True]}, "organization_ids"),
    ({"name": "F", "held_on": "2026-01-01", "organization_ids": [2 ** 70]}, "organization_ids"),
    ({"name": ["F"], "held_on": "2026-01-01", "organization_ids": []}, "name"),
    ({"name": "F" * 161, "held_on": "2026-01-01", "organization_ids": []}, "name"),
    ({"name": "F", "held_on": 20260101, "organization_ids": []}, "held_on"),
    ({"name": "F", "held_on": "2999-01-01", "organization_ids": []}, "held_on"),
    ({"name": "F\x00", "held_on": "2026-01-01", "organization_ids": []}, "name"),
])
def test_hostile_events_are_refused_with_the_field_and_change_nothing(app, world, coordinator, body, field):
    r = coordinator.post("/api/v1/matching-events", json=body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MatchingEvent)) == 0


def test_a_coordinator_cannot_put_another_clusters_producer_on_an_event_or_a_match(app, world, coordinator, matched):
    r = coordinator.post("/api/v1/matching-events", json={
        "name": "F", "held_on": HELD.isoformat(), "organization_ids": [world.orgs["weaver"], world.orgs["buyer"]]})
    assert r.status_code == 422 and "organization_ids" in r.get_json()["error"]["fields"]
    event = event_id(app)
    for body, field in (({"buyer_org_id": world.orgs["other_buyer"], "producer_org_id": world.orgs["farm"],
                          "products": "x"}, "buyer_org_id"),  # not at the event
                        ({"buyer_org_id": world.orgs["buyer"], "producer_org_id": world.orgs["weaver"],
                          "products": "x"}, "producer_org_id"),
                        ({"buyer_org_id": "1 OR 1=1", "producer_org_id": world.orgs["farm"],
                          "products": "x"}, "buyer_org_id"),
                        ({"buyer_org_id": world.orgs["buyer"], "producer_org_id": world.orgs["farm"],
                          "products": "x" * 301}, "products")):
        r = coordinator.post(f"/api/v1/matching-events/{event}/matches", json=body)
        assert r.status_code == 422 and field in r.get_json()["error"]["fields"], body
    for body in ({"stage": 3}, {"stage": "shipped"}, {"stage": "contacted", "on": ["2026-01-01"]},
                 {"stage": "dropped", "reason": "x" * 1001}):
        r = coordinator.post(f"/api/v1/matches/{matched}/stage", json=body)
        assert r.status_code == 422, body
    assert stage(app, matched)[0] == "matched"
    assert coordinator.get("/matching/99999999999999999999").status_code == 404
    assert coordinator.get("/api/v1/matches/0").status_code == 404


def test_a_hostile_event_form_is_shown_again_with_its_errors_and_changes_nothing(app, world, coordinator):
    r = new_event(coordinator, world, name="<img src=x onerror=alert(1)>" * 10, held_on="yesterday",
                  producers=["abc", str(world.orgs["weaver"])], buyers=["-1"], client_id="hostile-01")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "<img src=x" not in page
    assert "At most 160 characters." in page and "Expected a date (YYYY-MM-DD)." in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MatchingEvent)) == 0
    # Someone else's event, match or report: never a hint that it exists.
    assert new_event(coordinator, world).status_code == 303
    silk = login(app.test_client(), "other_coordinator")
    event = event_id(app)
    for path in (f"/matching/{event}", f"/matching/{event}/edit", f"/matching/{event}/report"):
        assert silk.get(path).status_code == 404, path
    assert silk.post(f"/matching/{event}/matches", data={"products": "x"}).status_code == 404


def test_a_buyer_finds_its_matches_under_more_and_a_producer_from_settings_and_its_profile(app, world, matched):
    buyer = login(app.test_client(), "customer")
    home = buyer.get("/orders").get_data(as_text=True)
    assert 'href="/matching"' in home and "My matches" in home  # a tab behind "More"
    mine = buyer.get("/matching").get_data(as_text=True)
    # Each match: the other side, the event and its day, the stage, the products of interest.
    assert "Takeo Rice Coop" in mine and "Phnom Penh forum" in mine and "Matched" in mine
    assert "Organic jasmine rice, brown rice" in mine
    farm = login(app.test_client(), "producer")
    assert 'class="tab-label">My matches' not in farm.get("/orders").get_data(as_text=True)  # three tabs, no menu
    for page in ("/settings", f"/profiles/{world.orgs['farm']}"):
        assert 'href="/matching"' in farm.get(page).get_data(as_text=True), page
    assert "Bangkok Buyer" in farm.get("/matching").get_data(as_text=True)
    for name in ("other_producer", "other_customer"):
        outsider = login(app.test_client(), name).get("/matching").get_data(as_text=True)
        assert "Phnom Penh forum" not in outsider and "No business match yet." in outsider


def test_the_demo_has_a_past_forum_with_matches_at_different_stages_some_moved_by_orders(app):
    from secgo.demo import seed_demo

    with app.app_context():
        seed_demo()
        forum = db.session.scalar(select(MatchingEvent).where(
            MatchingEvent.name == "Mekong Business Matching Forum 2026"))
        assert forum is not None and forum.held_on < today()
        stages = {m.stage for m in forum.matches}
        assert len(forum.matches) >= 4 and len(stages) >= 3, stages
        by_orders = db.session.scalar(select(func.count()).select_from(MatchStep).where(
            MatchStep.order_id.is_not(None)))
        assert by_orders >= 1  # orders in SEC GO! moved some of them on by themselves
