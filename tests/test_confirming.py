"""Confirming: back to the same spot without scripts, all pending updates at once (exactly
once, all or nothing), and "This is wrong" beside Confirm opening an issue on that update."""
import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import Issue, Notification, StatusUpdate, User
from secgo.push.payload import render as push_payload
from tests.test_api_orders import token_for
from tests.test_orders import NO_CSRF, make_order, post_update
from tests.test_phrases import set_locale

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)


def pending(app, world, client, auth, statuses=("in_production", "ready", "dispatched")):
    ref = make_order(app, world)
    auth.login("producer")
    for status in statuses:
        assert post_update(client, ref, status).status_code == 303
    post_update(client, ref, "note", "a note needs no confirmation")
    auth.logout()
    with app.app_context():
        ids = [u.id for u in db.session.scalars(select(StatusUpdate).where(
            StatusUpdate.status != "note").order_by(StatusUpdate.id))]
    return ref, ids


def confirmed(app):
    with app.app_context():
        return db.session.scalar(select(func.count(StatusUpdate.id)).where(
            StatusUpdate.confirmed_at.is_not(None)))


def test_confirming_without_scripts_returns_to_the_update(app, world, client, auth):
    ref, ids = pending(app, world, client, auth, ("in_production",))
    auth.login("customer")
    response = client.post(f"/orders/{ref}/updates/{ids[0]}/confirm", data={})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/orders/{ref}#u{ids[0]}")


def test_the_customer_confirms_all_pending_updates_at_once_exactly_once(app, world, client, auth):
    ref, ids = pending(app, world, client, auth)
    auth.login("customer")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Confirm all 3 updates" in page and f'value="{",".join(map(str, ids))}"' in page
    body = {"update_ids": ",".join(map(str, ids)), "client_id": "confirm-all-000001"}
    response = client.post("/orders/awaiting/confirm", data=body)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/orders/{ref}#timeline")
    assert confirmed(app) == 3
    assert client.post("/orders/awaiting/confirm", data=body).status_code == 303  # a replay
    set_locale(app, "producer", "th")
    with app.test_request_context():
        told = db.session.scalars(select(Notification).where(Notification.event == "confirmation")).all()
        assert [n.params.get("count") for n in told] == [3]  # the producer hears once
        payload = push_payload(told[0], db.session.get(User, told[0].user_id))
    assert payload["body"] == "ลูกค้ายืนยัน 3 อัปเดตแล้ว"
    assert "Confirm all" not in client.get(f"/orders/{ref}").get_data(as_text=True)


def test_confirm_all_from_the_awaiting_list_goes_back_to_it(app, world, client, auth):
    _ref, ids = pending(app, world, client, auth, ("in_production", "ready"))
    auth.login("customer")
    assert "Confirm all 2 updates" in client.get("/orders/awaiting").get_data(as_text=True)
    response = client.post("/orders/awaiting/confirm", data={
        "update_ids": " ".join(map(str, ids)), "next": "awaiting"})
    assert response.headers["Location"].endswith("/orders/awaiting")
    assert confirmed(app) == 2


def test_the_api_confirms_a_batch_and_lists_what_was_confirmed_before(app, world, client, auth):
    _ref, ids = pending(app, world, client, auth)
    headers = token_for(app, "customer")
    first = client.post("/api/v1/updates/confirm", headers=headers, json={"update_ids": ids[:1]})
    assert first.status_code == 200 and first.json == {"confirmed": ids[:1], "already_confirmed": []}
    rest = client.post("/api/v1/updates/confirm", headers=headers, json={"update_ids": ids})
    assert rest.json == {"confirmed": ids[1:], "already_confirmed": ids[:1]}


@pytest.mark.parametrize("user, body, status", [
    ("producer", lambda ids, other: {"update_ids": ids}, 403),
    ("coordinator", lambda ids, other: {"update_ids": ids}, 403),
    ("customer", lambda ids, other: {"update_ids": [*ids, other]}, 422),  # one not theirs: none
    ("customer", lambda ids, other: {"update_ids": [*ids, 2**31]}, 422),
    ("customer", lambda ids, other: {"update_ids": []}, 422),
    ("customer", lambda ids, other: {"update_ids": "1,2"}, 422),
    ("customer", lambda ids, other: {"update_ids": [str(i) for i in ids]}, 422),
    ("customer", lambda ids, other: {"update_ids": list(range(1, 102))}, 422),
    ("customer", lambda ids, other: {}, 422),
])
def test_a_bad_batch_confirms_nothing(app, world, client, auth, user, body, status):
    ref, ids = pending(app, world, client, auth)
    other_ref = make_order(app, world, producer="weaver", customer="other_buyer")
    auth.login("other_producer")
    post_update(client, other_ref, "in_production")
    auth.logout()
    with app.app_context():
        other = db.session.scalar(select(func.max(StatusUpdate.id)))
    response = client.post("/api/v1/updates/confirm", headers=token_for(app, user),
                           json=body(ids, other))
    assert response.status_code == status and response.json["error"]["message"]
    assert confirmed(app) == 0


def test_a_note_is_not_confirmed_in_a_batch(app, world, client, auth):
    _ref, ids = pending(app, world, client, auth)
    with app.app_context():
        note = db.session.scalar(select(StatusUpdate.id).where(StatusUpdate.status == "note"))
    response = client.post("/api/v1/updates/confirm", headers=token_for(app, "customer"),
                           json={"update_ids": [*ids, note]})
    assert response.status_code == 422 and confirmed(app) == 0


def test_this_is_wrong_opens_an_issue_on_that_update(app, world, client, auth):
    ref, ids = pending(app, world, client, auth, ("dispatched",))
    auth.login("customer")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    link = f"/orders/{ref}/issues/new?update={ids[0]}"
    assert link in page and "This is wrong" in page
    form = client.get(link).get_data(as_text=True)
    assert f'name="update_id" value="{ids[0]}"' in form
    assert '<option selected value="transport">' in form or 'value="transport" selected' in form
    response = client.post(f"/orders/{ref}/issues/new", data={
        "category": "transport", "severity": "medium", "title": "", "update_id": str(ids[0])})
    assert response.status_code == 303
    with app.app_context():
        issue = db.session.scalar(select(Issue).order_by(Issue.id.desc()))
        assert issue.update_id == ids[0] and issue.title_phrase["code"] == "update_wrong"
        assert issue.title == "Not right: the update “Dispatched”"
    set_locale(app, "producer", "th")
    auth.logout()
    auth.login("producer")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "ไม่ถูกต้อง: อัปเดต “จัดส่งแล้ว”" in page
    assert f'href="#u{ids[0]}"' in page and "มีการแจ้งปัญหาเกี่ยวกับอัปเดตนี้" in page


def test_this_is_wrong_on_another_orders_update_is_refused(app, world, client, auth):
    ref, _ids = pending(app, world, client, auth, ("dispatched",))
    auth.login("customer")
    with app.app_context():
        before = db.session.scalar(select(func.count(Issue.id)))
    for bad in ("999999", "abc", "-1", str(2**40)):
        response = client.post(f"/orders/{ref}/issues/new", data={
            "category": "transport", "severity": "medium", "title": "x", "update_id": bad})
        assert response.status_code == 422, bad
    api = client.post(f"/api/v1/orders/{ref}/issues", headers=token_for(app, "customer"), json={
        "category": "transport", "severity": "medium", "title": "x", "update_id": "1"})
    assert api.status_code == 422 and "update_id" in api.json["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Issue.id))) == before
