"""Smaller rules a hostile tester found on the way: re-opening a cancelled order by a
"correction", an Idempotency-Key replayed to another order, one tracking link flooded from
many addresses."""
import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import Issue, Notification, Order, StatusUpdate, TrackingLink
from tests.test_api_orders import token_for
from tests.test_orders import make_order

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
JSON = {"Accept": "application/json"}


def post_update(client, ref, status, note="", headers=JSON, **data):
    return client.post(f"/orders/{ref}/updates", data={"status": status, "note": note, **data},
                       headers=headers)


def updates_of(app, ref):
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        return order.status, [(u.id, u.status) for u in db.session.scalars(
            select(StatusUpdate).where(StatusUpdate.order_id == order.id).order_by(StatusUpdate.id))]


def cancelled_order(app, world, client, auth):
    """An order the producer (logged in on client) has put in production, then cancelled."""
    ref = make_order(app, world)
    auth.login("producer")
    assert post_update(client, ref, "in_production").status_code == 201
    cancel = post_update(client, ref, "cancelled", "Buyer asked to stop")
    assert cancel.status_code == 201
    return ref, cancel.get_json()["id"]


# --- (a) a cancelled order is not re-opened behind the customer's back ---------------------

@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_producer_cannot_reopen_a_cancelled_order_with_a_correction_that_gives_no_reason(
        app, world, client, auth):
    ref, cancel_id = cancelled_order(app, world, client, auth)
    r = post_update(client, ref, "in_transit", "", corrects_id=cancel_id)
    assert r.status_code == 422 and "note" in r.get_json()["error"]["fields"]
    status, updates = updates_of(app, ref)
    assert status == "cancelled" and len(updates) == 2


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_withdrawing_a_cancellation_tells_the_customer_and_coordinator_and_shows_in_the_timeline(
        app, world, client, auth):
    ref, cancel_id = cancelled_order(app, world, client, auth)
    r = post_update(client, ref, "in_transit", "Cancelled by mistake: the truck left", corrects_id=cancel_id)
    assert r.status_code == 201
    status, updates = updates_of(app, ref)
    assert status == "in_transit"
    with app.app_context():
        told = [n for n in db.session.scalars(select(Notification)) if n.params.get("reopened")]
        assert {n.user_id for n in told} == {world.users["customer"], world.users["coordinator"]}
        assert all(n.params["correction"] and n.params["status"] == "in_transit" for n in told)
    auth.logout()
    auth.login("customer")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    entry = page.split(f'id="u{r.get_json()["id"]}"', 1)[1].split("</li>", 1)[0]
    assert "Cancellation withdrawn" in entry and f'href="#u{cancel_id}"' in entry
    assert "Cancelled by mistake: the truck left" in entry
    assert "data-confirm=" in entry  # it waits for the customer's confirmation


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_push_for_a_withdrawn_cancellation_says_so(app, world):
    from secgo.push.payload import render

    with app.test_request_context():
        note = Notification(id=1, user_id=1, event="status_update", url="/orders/SEC-ABCDEF",
                            params={"reference": "SEC-ABCDEF", "status": "in_transit",
                                    "correction": True, "reopened": True})
        payload = render(note, type("U", (), {"locale": "en"})())
    assert "cancellation withdrawn" in payload["title"]


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_cancellation_the_customer_confirmed_cannot_be_withdrawn_by_the_producer(app, world, client, auth):
    ref, cancel_id = cancelled_order(app, world, client, auth)
    customer = app.test_client()
    customer.post("/login", data={"login": "customer", "password": "correct horse battery"})
    assert customer.post(f"/orders/{ref}/updates/{cancel_id}/confirm", data={}).status_code == 303
    r = post_update(client, ref, "in_transit", "We found a truck after all", corrects_id=cancel_id)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "cancellation_confirmed"
    assert updates_of(app, ref)[0] == "cancelled"


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_cancelled_order_cannot_be_reopened_by_correcting_an_older_update(app, world, client, auth):
    ref, cancel_id = cancelled_order(app, world, client, auth)
    production_id = updates_of(app, ref)[1][0][0]
    r = post_update(client, ref, "ready", "Was ready already", corrects_id=production_id)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "correct_the_cancellation"
    status, updates = updates_of(app, ref)
    assert status == "cancelled" and len(updates) == 2


# --- (b) an Idempotency-Key belongs to one target ------------------------------------------

def count_updates(app, ref):
    with app.app_context():
        return db.session.scalar(select(func.count(StatusUpdate.id)).join(Order).where(Order.reference == ref))


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_an_idempotency_key_replayed_to_another_order_is_refused_as_a_mismatch(app, world, client, auth):
    first, second = make_order(app, world), make_order(app, world, product="Broken rice")
    auth.login("producer")
    key = {**JSON, "Idempotency-Key": "same-key-000001"}
    a = post_update(client, first, "in_production", "Milling", headers=key)
    assert a.status_code == 201
    b = post_update(client, second, "in_production", "Milling", headers=key)
    assert b.status_code == 422 and b.get_json()["error"]["code"] == "idempotency_key_mismatch"
    assert b.get_json()["error"]["message"]
    assert count_updates(app, second) == 0 and updates_of(app, second)[0] == "accepted"
    # The same key to the same order with the same body still answers as the first time.
    again = post_update(client, first, "in_production", "Milling", headers=key)
    assert again.status_code == 201 and again.get_json() == a.get_json()
    assert post_update(client, first, "ready", "Other", headers=key).status_code == 409
    assert count_updates(app, first) == 1


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_an_idempotency_key_replayed_to_another_order_through_the_api_is_refused(app, world, client):
    first, second = make_order(app, world), make_order(app, world, product="Broken rice")
    headers = {**token_for(app, "customer"), "Idempotency-Key": "api-same-key-0001"}
    body = {"received_quantity": "100", "condition": "good"}
    a = client.post(f"/api/v1/orders/{first}/delivery", json=body, headers=headers)
    assert a.status_code == 201
    b = client.post(f"/api/v1/orders/{second}/delivery", json=body, headers=headers)
    assert b.status_code == 422 and b.get_json()["error"]["code"] == "idempotency_key_mismatch"
    assert updates_of(app, second)[0] == "accepted"


# --- (c) one tracking link cannot be flooded from many addresses ---------------------------

@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False}], indirect=True)
def test_one_tracking_link_is_throttled_whatever_the_address(app, world):
    from secgo.orders.routes import TRACKING_LINK_WRITE_LIMIT
    from tests.factories import matrix_link

    with app.app_context():
        _id, token = matrix_link(world)
        _other_id, other_token = matrix_link(world)
    allowed = int(TRACKING_LINK_WRITE_LIMIT.split()[0])
    client = app.test_client()

    def report(n, link=token):
        return client.post(f"/t/{link}/problem", headers=JSON,
                           data={"category": "delay", "title": f"Report {n}", "client_id": f"report-{n:06d}"},
                           environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"})

    for n in range(allowed):
        assert report(n).status_code == 201
    refused = report(allowed)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "This link has sent too many reports" in refused.get_json()["error"]["message"]
    with app.app_context():
        link = db.session.scalar(select(TrackingLink).where(TrackingLink.id == _id))
        assert db.session.scalar(select(func.count(Issue.id)).where(
            Issue.order_id == link.order_id, Issue.title.like("Report %"))) == allowed
    assert report(allowed + 1, other_token).status_code == 201  # another link is not held back
