"""Hostile input to the JSON API: a clear 4xx JSON refusal, never a 500, and nothing written.

The concrete cases schemathesis found (ids beyond 64 bits, object-valued keys) and their
family: wrong JSON types in every field of every write, bodies that are not JSON, empty bodies.
"""
import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.ids import MAX_ID
from tests.test_api_orders import token_for
from tests.test_orders import NO_CSRF, make_order
from tests.test_push_api import service  # noqa: F401  (a fake push service on 127.0.0.1)

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)

HUGE = 2**64 + 7  # beyond SQLite's INTEGER and PostgreSQL's BIGINT
WRONG = [{"a": 1}, [{"b": 2}], True, HUGE, -HUGE, 1e308]


def rows(app) -> dict:
    """The number of rows of every table (the API token's last use aside, a refusal writes none)."""
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t))
                for t in db.metadata.sorted_tables}


def refused(answer, *statuses, case=None):
    """A JSON error answer with one of the statuses (any 4xx when none given)."""
    text = answer.get_data(as_text=True)[:300]
    assert answer.status_code < 500, (case, text)
    assert (answer.status_code in statuses) if statuses else 400 <= answer.status_code < 500, \
        (case, answer.status_code, text)
    error = answer.json["error"]
    assert error["code"] and error["message"]
    return error


@pytest.fixture
def scene(app, world, client, service):  # noqa: F811
    """An order with an update awaiting confirmation, an open issue and a tracking link."""
    ref = make_order(app, world)
    producer, customer = token_for(app, "producer"), token_for(app, "customer")
    coordinator = token_for(app, "coordinator")
    status = client.get(f"/api/v1/orders/{ref}", headers=producer).json["allowed_statuses"][0]
    update = client.post(f"/api/v1/orders/{ref}/updates", json={"status": status}, headers=producer)
    issue = client.post(f"/api/v1/orders/{ref}/issues", headers=customer,
                        json={"category": "quality", "severity": "low", "title": "Wet sacks"})
    link = client.post(f"/api/v1/orders/{ref}/links", json={"contact_name": "Dara"}, headers=customer)
    assert update.status_code == issue.status_code == link.status_code == 201
    sub = service.subscription(service.new_device())
    # Every write with a body that is valid as it stands, and who may send it.
    writes = [
        ("/api/v1/orders", producer, {
            "customer_org_id": world.orgs["buyer"], "product": "Rice", "quantity": "10", "unit": "kg",
            "origin": "Takeo", "destination": "Bangkok", "value": "10", "currency": "USD",
            "border_crossing": None, "due_date": "2030-01-01", "notes": "n"}),
        (f"/api/v1/orders/{ref}/updates", producer, {
            "status": "note", "note": "n", "note_encoding": "typed", "occurred_at": None,
            "latitude": 11.5, "longitude": 104.9, "corrects_id": update.json["id"], "photo_ids": []}),
        (f"/api/v1/updates/{update.json['id']}/confirm", customer, {"comment": "ok"}),
        (f"/api/v1/orders/{ref}/delivery", customer, {
            "received_quantity": "100", "condition": "good", "note": "n", "note_encoding": "typed",
            "photo_ids": []}),
        (f"/api/v1/orders/{ref}/links", customer, {"contact_name": "Sok", "days": 3}),
        (f"/api/v1/orders/{ref}/issues", customer, {
            "category": "delay", "severity": "high", "title": "t", "title_encoding": "typed",
            "description": "d", "description_encoding": "typed", "photo_ids": []}),
        (f"/api/v1/issues/{issue.json['id']}/comments", customer, {
            "body": "b", "body_encoding": "typed", "photo_ids": []}),
        (f"/api/v1/issues/{issue.json['id']}/transitions", coordinator, {
            "action": "reassign", "note": "n", "assignee_id": world.users["coordinator"]}),
        ("/api/v1/push/subscriptions", customer, {**sub, "events": ["status_update"]}),
    ]
    return {"ref": ref, "update": update.json["id"], "issue": issue.json["id"], "link": link.json["id"],
            "producer": producer, "customer": customer, "coordinator": coordinator, "writes": writes}


def test_ids_too_large_for_the_database_in_a_url_are_not_found(app, client, scene):
    ref, customer = scene["ref"], scene["customer"]
    before = rows(app)
    for method, path in [
        ("delete", f"/api/v1/orders/{ref}/links/{HUGE}"),
        ("delete", f"/api/v1/push/subscriptions/{HUGE}"),
        ("post", f"/api/v1/issues/{HUGE}/comments"),
        ("post", f"/api/v1/issues/{HUGE}/transitions"),
        ("get", f"/api/v1/issues/{HUGE}"),
        ("post", f"/api/v1/updates/{HUGE}/confirm"),
        ("post", f"/api/v1/updates/{MAX_ID + 1}/confirm"),
        ("delete", f"/api/v1/orders/{ref}/links/{10**400}"),
    ]:
        answer = getattr(client, method)(path, json={"body": "x", "action": "close"}, headers=customer)
        refused(answer, 404)
    for path in [f"/attachments/{HUGE}", f"/attachments/{HUGE}/thumb", f"/issues/{HUGE}"]:
        assert client.get(path, headers=customer).status_code == 404
    assert rows(app) == before


@pytest.mark.parametrize("field", ["photo_ids", "corrects_id", "assignee_id", "customer_org_id"])
def test_ids_too_large_for_the_database_in_a_body_are_refused_by_field(app, client, scene, field):
    before = rows(app)
    value = [HUGE] if field == "photo_ids" else HUGE
    hits = 0
    for path, headers, body in scene["writes"]:
        if field in body or (field == "producer_org_id" and path == "/api/v1/orders"):
            hits += 1
            error = refused(client.post(path, json={**body, field: value}, headers=headers), 422)
            assert error["fields"][field] if field != "assignee_id" else error["fields"]
    assert hits and rows(app) == before


def test_a_subscription_with_objects_for_keys_or_events_is_refused(app, client, scene):
    before = rows(app)
    sub = next(body for path, _h, body in scene["writes"] if path.endswith("/push/subscriptions"))
    for change in [{"keys": {"p256dh": {"x": 1}, "auth": {"y": 2}}}, {"keys": [{"x": 1}]},
                   {"events": [{"x": 1}]}, {"events": [["status_update"]]}, {"endpoint": {"x": 1}}]:
        refused(client.post("/api/v1/push/subscriptions", json={**sub, **change},
                            headers=scene["customer"]), 422)
    assert rows(app) == before


def test_every_field_of_every_write_refuses_the_wrong_json_type(app, client, scene):
    before = rows(app)
    tried = 0
    for path, headers, body in scene["writes"]:
        for field in body:
            for wrong in WRONG:
                answer = client.post(path, json={**body, field: wrong}, headers=headers)
                refused(answer, case=(path, field, wrong))
                tried += 1
    assert tried > 150 and rows(app) == before


@pytest.mark.parametrize("data", ["{not json", "", "[1, 2]", "null", "\"text\"", "\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_a_400(app, client, scene, data):
    before = rows(app)
    for path, headers, _body in scene["writes"]:
        if data == "" and path.endswith("/confirm"):
            continue  # a confirmation without a comment needs no body
        refused(client.post(path, data=data, content_type="application/json", headers=headers), 400)
    assert rows(app) == before


def test_a_body_that_is_not_json_at_all_is_refused(app, client, scene):
    before = rows(app)
    for path, headers, _body in scene["writes"]:
        if path.endswith("/confirm"):
            continue
        refused(client.post(path, data="product=rice", content_type="text/plain", headers=headers), 400, 415)
        refused(client.post(path, headers=headers), 400, 415)
    assert rows(app) == before


def test_the_same_bodies_untouched_are_accepted(app, client, scene):
    """The refusals above come from the one wrong field: each body as it stands is a valid write."""
    for path, headers, body in scene["writes"]:
        answer = client.post(path, json=body, headers=headers)
        assert 200 <= answer.status_code < 300, (path, answer.get_data(as_text=True)[:300])


def test_query_numbers_in_other_scripts_or_too_long_are_refused_or_ignored(app, client, scene):
    headers = scene["customer"]
    for query in [{"limit": "²"}, {"offset": "²"}, {"limit": "9" * 5000}, {"page": "²"}, {"page": "9" * 5000}]:
        path = "/api/v1/orders" if "page" in query else "/api/v1/issues"
        refused(client.get(path, query_string=query, headers=headers), 422)
    for query in [{"cluster": "²"}, {"cluster": "9" * 40}, {"limit": "๒"}, {"state": "{}"}]:
        assert client.get("/api/v1/issues", query_string=query, headers=headers).status_code == 200


def test_nul_characters_in_text_and_search_never_reach_the_database(app, client, scene):
    """PostgreSQL cannot store NUL: a search with it is a 400, a write is refused (422) naming the field."""
    before = rows(app)
    refused(client.get("/api/v1/orders", query_string={"q": "ri\x00ce"}, headers=scene["customer"]), 400)
    for path, headers, body in scene["writes"]:
        texts = {k: f"a\x00{v}" for k, v in body.items()
                 if isinstance(v, str) and k in ("product", "note", "comment", "contact_name", "title",
                                                  "description", "body", "notes")}
        if texts:
            error = refused(client.post(path, json={**body, **texts}, headers=headers), 422, case=path)
            assert set(error["fields"]) & set(texts), (path, error)
    assert rows(app) == before


def test_a_coordinator_can_raise_an_issue(app, client, scene):
    """Found by fuzzing on PostgreSQL: "coordinator" did not fit the raised_by_side column."""
    answer = client.post(f"/api/v1/orders/{scene['ref']}/issues", headers=scene["coordinator"],
                         json={"category": "delay", "severity": "low", "title": "Certificate copy needed"})
    assert answer.status_code == 201 and answer.json["raised_by_side"] == "coordinator"
