"""The order rules, once, as the services state them (pages and API call these)."""
import pytest
from sqlalchemy import select

from secgo.errors import ApiError
from secgo.extensions import db
from secgo.models import Notification, Order, StatusUpdate, User
from secgo.orders import services
from tests.test_orders import NO_CSRF, make_order, post_update

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)


def user(name):
    return db.session.scalar(select(User).where(User.username == name))


def order(ref):
    return db.session.scalar(select(Order).where(Order.reference == ref))


def test_producers_may_skip_steps_but_never_go_back(app, world):
    ref = make_order(app, world)
    with app.test_request_context():
        o = order(ref)
        assert services.allowed_statuses(o, "producer")[:2] == ["in_production", "ready"]
        assert services.allowed_statuses(o, "customer") == []
        assert services.likely_next(o, "producer") == ["in_production", "ready", "dispatched"]
        o.status = "at_border"
        assert services.allowed_statuses(o, "coordinator") == [
            "customs_cleared", "in_transit", "delivered", "cancelled"]
        o.status = "cancelled"
        assert services.allowed_statuses(o, "admin") == []


def test_status_updates_tell_the_customer_and_coordinators_not_the_author(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, "dispatched", "Truck left")
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(
            Notification.event == "status_update", Notification.order_id == order(ref).id)).all()
        assert sorted(r.user_id for r in rows) == sorted([world.users["customer"], world.users["coordinator"]])
        assert rows[0].params["status"] == "dispatched" and rows[0].params["reference"] == ref
        assert rows[0].url == f"/orders/{ref}"


def test_a_customer_note_tells_the_producer_side(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    post_update(client, ref, "note", "Please call me")
    with app.app_context():
        recipients = {r.user_id for r in db.session.scalars(select(Notification).where(
            Notification.event == "status_update", Notification.order_id == order(ref).id))}
        assert recipients == {world.users["producer"], world.users["coordinator"]}


def test_coordinator_and_admin_report_status_other_coordinators_see_nothing(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("coordinator")
    assert post_update(client, ref, "ready").status_code == 303
    auth.logout()
    auth.login("admin")
    assert post_update(client, ref, "dispatched").status_code == 303
    auth.logout()
    auth.login("other_coordinator")
    assert client.get(f"/orders/{ref}").status_code == 404
    assert post_update(client, ref, "in_transit").status_code == 404


def test_notes_need_no_confirmation(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, "note", "FYI")
    with app.test_request_context():
        update = db.session.scalar(select(StatusUpdate))
        with pytest.raises(ApiError) as err:
            services.confirm_update(user("customer"), update, {})
        assert err.value.status == 409


def test_search_text_follows_the_notes(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, "note", "Xe đã qua cửa khẩu Mộc Bài")
    with app.app_context():
        assert "xe da qua cua khau moc bai" in order(ref).search_text
    assert ref in client.get("/orders?q=moc+bai").get_data(as_text=True)


def test_a_cancelled_order_takes_no_delivery(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, "cancelled")
    auth.logout()
    auth.login("customer")
    response = client.post(f"/orders/{ref}/delivery", data={"received_quantity": "1", "condition": "good"})
    assert response.status_code == 409


def test_a_coordinator_creates_orders_only_for_producers_of_its_clusters(app, world, client, auth):
    auth.login("coordinator")
    base = {"customer_org_id": world.orgs["buyer"], "product": "Rice", "quantity": "1", "unit": "t",
            "origin": "Takeo", "destination": "Bangkok"}
    assert client.post("/orders/new", data={**base, "producer_org_id": world.orgs["farm"]}).status_code == 303
    refused = client.post("/orders/new", data={**base, "producer_org_id": world.orgs["weaver"]})
    assert refused.status_code == 422
