"""API v1 for orders: list, search, create, read, updates, confirmation, delivery, uploads."""
import threading

import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import ApiToken, Attachment, DeliveryConfirmation, Order, StatusUpdate, User, hash_token
from tests.test_orders import NO_CSRF, make_order
from tests.live import live_server_fixture  # noqa: F401  (the live_server fixture)
from tests.test_photos import jpeg_with_gps, multipart

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)


def token_for(app, username):
    """A bearer token for an integration of that user."""
    secret = f"test-token-{username}-0123456789abcdef"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.add(ApiToken(user=user, name="test", token_hash=hash_token(secret), prefix=secret[:8]))
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def count(app, model, **where):
    with app.app_context():
        stmt = select(func.count(model.id))
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db.session.scalar(stmt)


def test_an_integration_creates_an_order_and_a_replay_creates_nothing(app, world, client):
    headers = {**token_for(app, "producer"), "Idempotency-Key": "create-order-0001"}
    body = {"customer_org_id": world.orgs["buyer"], "product": "Organic rice", "quantity": 20000,
            "unit": "kg", "origin": "Takeo", "destination": "Bangkok", "value": "18500.50",
            "currency": "USD", "border_crossing": "aranyaprathet_poipet", "due_date": "2030-02-01"}
    before = count(app, Order)
    first = client.post("/api/v1/orders", json=body, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["reference"].startswith("SEC-") and first.json["quantity"] == "20000"
    again = client.post("/api/v1/orders", json=body, headers=headers)
    assert again.status_code == 201 and again.json == first.json
    assert count(app, Order) == before + 1
    reused = client.post("/api/v1/orders", json={**body, "product": "Other"}, headers=headers)
    assert reused.status_code == 409


def test_api_lists_searches_and_reads_orders(app, world, client):
    ref = make_order(app, world, product="Gốm Bát Tràng")
    headers = token_for(app, "customer")
    listed = client.get("/api/v1/orders", query_string={"q": "bat trang"}, headers=headers)
    assert [o["reference"] for o in listed.json["items"]] == [ref]
    assert listed.json["items"][0]["awaiting_confirmation"] == 0
    read = client.get(f"/api/v1/orders/{ref}", headers=headers)
    assert read.status_code == 200 and read.json["updates"] == [] and read.json["allowed_statuses"] == []
    assert client.get(f"/api/v1/orders/{ref}", headers=token_for(app, "other_customer")).status_code == 404
    assert client.get("/api/v1/orders?page=x", headers=headers).status_code == 422


def test_full_flow_over_the_api_with_a_photo(app, world, client):
    ref = make_order(app, world)
    producer = token_for(app, "producer")
    body, content_type = multipart({}, [("file", "p.jpg", jpeg_with_gps())])
    upload = client.post("/api/v1/attachments", data=body, content_type=content_type,
                         headers={**producer, "Idempotency-Key": "upload-000001"})
    assert upload.status_code == 201, upload.json
    photo_id = upload.json["id"]
    created = client.post(f"/api/v1/orders/{ref}/updates", json={
        "status": "dispatched", "note": "Truck left", "photo_ids": [photo_id],
        "latitude": 11.5, "longitude": 104.9}, headers={**producer, "Idempotency-Key": "update-000001"})
    assert created.status_code == 201, created.json
    assert created.json["photos"][0]["id"] == photo_id
    customer = token_for(app, "customer")
    assert client.get("/api/v1/orders?awaiting=1", headers=customer).json["total"] == 1
    confirmed = client.post(f"/api/v1/updates/{created.json['id']}/confirm", json={"comment": "ok"},
                            headers={**customer, "Idempotency-Key": "confirm-00001"})
    assert confirmed.status_code == 200 and confirmed.json["confirmed_at"]
    delivery = client.post(f"/api/v1/orders/{ref}/delivery", json={
        "received_quantity": "100", "condition": "damaged", "note": "Wet bags"},
        headers={**customer, "Idempotency-Key": "delivery-0001"})
    assert delivery.status_code == 201 and delivery.json["issue_opened"] is True
    read = client.get(f"/api/v1/orders/{ref}", headers=customer).json
    assert read["status"] == "delivered" and read["issues"][0]["category"] == "quality"
    assert read["delivery"]["condition"] == "damaged"


def test_someone_elses_photo_cannot_be_attached(app, world, client):
    ref = make_order(app, world)
    body, content_type = multipart({}, [("file", "p.jpg", jpeg_with_gps())])
    upload = client.post("/api/v1/attachments", data=body, content_type=content_type,
                         headers=token_for(app, "other_producer"))
    response = client.post(f"/api/v1/orders/{ref}/updates", json={
        "status": "ready", "photo_ids": [upload.json["id"]]}, headers=token_for(app, "producer"))
    assert response.status_code == 422 and "photo_ids" in response.json["error"]["fields"]


@pytest.mark.parametrize("body,field", [
    ({"status": 5}, "status"),
    ({"status": "teleported"}, "status"),
    ({"status": "note", "note": ["a"]}, "note"),
    ({"status": "note", "note": "x" * 2001}, "note"),
    ({"status": "note", "latitude": "north", "longitude": 1}, "latitude"),
    ({"status": "note", "occurred_at": "2026-13-01T00:00:00Z"}, "occurred_at"),
    ({"status": "note", "corrects_id": "abc"}, "corrects_id"),
    ({"status": "note", "photo_ids": "1"}, "photo_ids"),
])
def test_wrong_types_and_values_get_a_422_naming_the_field(app, world, client, body, field):
    ref = make_order(app, world)
    response = client.post(f"/api/v1/orders/{ref}/updates", json=body, headers=token_for(app, "producer"))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert count(app, StatusUpdate) == 0


def test_malformed_bodies_get_json_errors(app, world, client):
    ref = make_order(app, world)
    headers = token_for(app, "producer")
    assert client.post(f"/api/v1/orders/{ref}/updates", data="status=ready",
                       headers=headers).status_code == 415
    bad = client.post(f"/api/v1/orders/{ref}/updates", data="[1, 2", content_type="application/json",
                      headers=headers)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "bad_request"
    assert client.post("/api/v1/orders", json=[1], headers=headers).status_code == 400
    order = client.post("/api/v1/orders", json={"customer_org_id": "abc", "quantity": True},
                        headers=headers)
    assert order.status_code == 422
    assert {"customer_org_id", "quantity", "product"} <= set(order.json["error"]["fields"])


def test_a_customer_posting_a_status_gets_403_and_another_org_gets_404(app, world, client):
    ref = make_order(app, world)
    response = client.post(f"/api/v1/orders/{ref}/updates", json={"status": "ready"},
                           headers=token_for(app, "customer"))
    assert response.status_code == 403
    response = client.post(f"/api/v1/orders/{ref}/updates", json={"status": "ready"},
                           headers=token_for(app, "other_producer"))
    assert response.status_code == 404


def test_a_30_mb_api_upload_gets_413(app, world, client):
    body, content_type = multipart({}, [("file", "big.jpg", b"\xff\xd8" + b"0" * (30 * 1024 * 1024))])
    response = client.post("/api/v1/attachments", data=body, content_type=content_type,
                           headers=token_for(app, "producer"))
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
    assert count(app, Attachment) == 0


def test_every_api_route_is_in_the_openapi_document_and_back(app, client):
    import re

    def shape(path):  # parameter names are labels; compare where the parameters are
        return re.sub(r"\{[^}]+\}", "{}", path)

    doc = client.get("/api/v1/openapi.json").json
    documented = {(shape(path), method) for path, ops in doc["paths"].items() for method in ops}
    implemented = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.not_found":
            continue
        path = re.sub(r"<[^>]+>", "{}", rule.rule[len("/api/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            implemented.add((path, method.lower()))
    assert implemented - documented == set(), "routes missing from openapi.json"
    assert documented - implemented == set(), "openapi.json documents routes that do not exist"


def test_a_photo_upload_replayed_gives_the_same_answer(app, world, client):
    headers = {**token_for(app, "producer"), "Idempotency-Key": "upload-replay-1"}
    body, content_type = multipart({}, [("file", "p.jpg", jpeg_with_gps())])
    first = client.post("/api/v1/attachments", data=body, content_type=content_type, headers=headers)
    second = client.post("/api/v1/attachments", data=body, content_type=content_type, headers=headers)
    assert first.status_code == second.status_code == 201 and first.json == second.json
    assert count(app, Attachment) == 1


def test_concurrent_replays_against_a_live_server_create_exactly_one_update(app, world, live_server):
    import requests

    ref = make_order(app, world)
    headers = {**token_for(app, "producer"), "Idempotency-Key": "concurrent-key-01"}
    results = []
    barrier = threading.Barrier(6)

    def send():
        barrier.wait()
        r = requests.post(f"{live_server.url}/api/v1/orders/{ref}/updates",
                          json={"status": "ready", "note": "once"}, headers=headers, timeout=30)
        results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=send) for _i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {status for status, _body in results} == {201}, results
    assert len({body["id"] for _s, body in results}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(StatusUpdate.id))) == 1


def test_delivery_replay_creates_one_confirmation(app, world, client):
    ref = make_order(app, world)
    headers = {**token_for(app, "customer"), "Idempotency-Key": "delivery-replay1"}
    body = {"received_quantity": 100, "condition": "good"}
    assert client.post(f"/api/v1/orders/{ref}/delivery", json=body, headers=headers).status_code == 201
    assert client.post(f"/api/v1/orders/{ref}/delivery", json=body, headers=headers).status_code == 201
    assert count(app, DeliveryConfirmation) == 1


def test_tracking_links_over_the_api_show_the_secret_once_and_can_be_revoked(app, world, client):
    ref = make_order(app, world)
    headers = {**token_for(app, "customer"), "Idempotency-Key": "link-create-001"}
    first = client.post(f"/api/v1/orders/{ref}/links", json={"contact_name": "Clerk", "days": 7},
                        headers=headers)
    assert first.status_code == 201 and "/t/" in first.json["url"]
    replay = client.post(f"/api/v1/orders/{ref}/links", json={"contact_name": "Clerk", "days": 7},
                         headers=headers)
    assert replay.status_code == 201 and "url" not in replay.json and replay.json["id"] == first.json["id"]
    path = "/t/" + first.json["url"].split("/t/", 1)[1]
    assert client.get(path).status_code == 200
    revoked = client.delete(f"/api/v1/orders/{ref}/links/{first.json['id']}",
                            headers={**headers, "Idempotency-Key": "link-revoke-001"})
    assert revoked.status_code == 200
    assert client.get(path).status_code == 410  # the clerk is told the link ended
