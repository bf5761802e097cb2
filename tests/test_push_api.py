"""Turning notifications on and off: the settings page, the API, VAPID keys, the allow-list."""
import os
import re
import stat

import pytest
from sqlalchemy import select

from secgo.auth.services import create_api_token
from secgo.extensions import db
from secgo.models import PushSubscription, User
from secgo.notify import ROLE_EVENTS
from secgo.push.endpoints import safe_endpoint
from secgo.push.vapid import load_keys
from tests.conftest import make_app
from tests.live import live_server_fixture  # noqa: F401  (the live_server fixture)
from tests.pushservice import PushService

DEFAULT_HOSTS = ("fcm.googleapis.com,updates.push.services.mozilla.com,web.push.apple.com,"
                 "*.notify.windows.com")


@pytest.fixture
def service(app):
    with PushService() as svc:
        app.config["PUSH_ALLOWED_HOSTS"] = f"{DEFAULT_HOSTS},{svc.origin}"
        yield svc


def bearer(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        token = create_api_token(user, "test")
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def stored(app):
    with app.app_context():
        return {s.endpoint: (s.user.username, s.events) for s in db.session.scalars(select(PushSubscription))}


def test_an_app_subscribes_a_device_once_and_can_change_its_events(app, world, service, client):
    headers = bearer(app, "customer")
    body = service.subscription(service.new_device())
    created = client.post("/api/v1/push/subscriptions", json=body, headers=headers)
    assert created.status_code == 201, created.json
    sub = created.json
    assert sub["endpoint"] == body["endpoint"] and "issue_opened" in sub["events"]
    assert "keys" not in sub and created.headers["Location"] == f"/api/v1/push/subscriptions/{sub['id']}"
    again = client.post("/api/v1/push/subscriptions", json={**body, "events": ["issue_opened"]},
                        headers=headers)
    assert again.status_code == 200 and again.json["id"] == sub["id"]
    assert again.json["events"] == ["issue_opened"]
    listed = client.get("/api/v1/push/subscriptions", headers=headers).json["subscriptions"]
    assert [s["id"] for s in listed] == [sub["id"]]
    assert stored(app) == {body["endpoint"]: ("customer", ["issue_opened"])}


def test_an_idempotency_key_replay_creates_nothing_new(app, world, service, client):
    headers = {**bearer(app, "customer"), "Idempotency-Key": "push-key-0001"}
    body = service.subscription(service.new_device())
    first = client.post("/api/v1/push/subscriptions", json=body, headers=headers)
    replay = client.post("/api/v1/push/subscriptions", json=body, headers=headers)
    assert first.status_code == replay.status_code == 201 and first.json == replay.json
    assert len(stored(app)) == 1


def test_a_device_is_removed_only_by_its_owner(app, world, service, client):
    mine, theirs = bearer(app, "customer"), bearer(app, "producer")
    sub = client.post("/api/v1/push/subscriptions", json=service.subscription(service.new_device()),
                      headers=mine).json
    assert client.delete(f"/api/v1/push/subscriptions/{sub['id']}", headers=theirs).status_code == 404
    assert client.delete(f"/api/v1/push/subscriptions/{sub['id']}", headers=mine).status_code == 204
    assert client.delete(f"/api/v1/push/subscriptions/{sub['id']}", headers=mine).status_code == 404
    assert stored(app) == {}


@pytest.mark.parametrize("change, field", [
    (lambda b: b.update(endpoint="https://evil.example/push/1"), "endpoint"),
    (lambda b: b.update(endpoint="http://fcm.googleapis.com/fcm/send/x"), "endpoint"),
    (lambda b: b.update(endpoint=42), "endpoint"),
    (lambda b: b["keys"].update(p256dh="AAAA"), "p256dh"),
    (lambda b: b["keys"].update(p256dh="BA" + "A" * 85), "p256dh"),  # not a point on P-256
    (lambda b: b["keys"].update(auth="%%%"), "auth"),
    (lambda b: b.update(keys="nope"), "auth"),
    (lambda b: b.update(events=[]), "events"),
    (lambda b: b.update(events=["everything"]), "events"),
    (lambda b: b.update(events="status_update"), "events"),
])
def test_a_bad_subscription_is_refused_with_a_clear_message_and_nothing_stored(
        app, world, service, client, change, field):
    body = service.subscription(service.new_device())
    change(body)
    answer = client.post("/api/v1/push/subscriptions", json=body, headers=bearer(app, "customer"))
    assert answer.status_code == 422
    assert field in answer.json["error"]["fields"] and answer.json["error"]["fields"][field]
    assert stored(app) == {}


def test_a_crafted_endpoint_is_refused_at_subscribe_time_and_never_called(app, world, service, client):
    from tests.test_push import crafted_endpoints

    headers = bearer(app, "customer")
    keys = service.subscription(service.new_device())["keys"]
    for endpoint in crafted_endpoints(service):
        answer = client.post("/api/v1/push/subscriptions", json={"endpoint": endpoint, "keys": keys},
                             headers=headers)
        assert answer.status_code == 422, endpoint
    assert stored(app) == {} and service.requests == []


def test_the_api_refuses_what_is_not_json_and_strangers(app, world, client):
    headers = bearer(app, "customer")
    assert client.post("/api/v1/push/subscriptions", data="x", headers=headers).status_code == 415
    assert client.post("/api/v1/push/subscriptions", json=[1], headers=headers).status_code == 400
    assert client.get("/api/v1/push/subscriptions").status_code == 401
    assert client.get("/api/v1/push/key").status_code == 401


def test_the_api_gives_the_vapid_public_key_and_documents_push(app, world, client):
    key = client.get("/api/v1/push/key", headers=bearer(app, "customer")).json["public_key"]
    with app.app_context():
        assert key == load_keys().application_server_key
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/push/subscriptions"]) == {"get", "post"}
    assert "delete" in paths["/push/subscriptions/{id}"] and "get" in paths["/push/key"]


# --- the settings page ------------------------------------------------------------------

def csrf_of(html):
    return re.search(r'data-csrf="([^"]+)"', html).group(1)


def test_the_settings_page_offers_this_roles_events_and_the_key(app, world, client, auth):
    auth.login("customer")
    html = client.get("/settings").get_data(as_text=True)
    with app.app_context():
        key = load_keys().application_server_key
    assert f'data-key="{key}"' in html and "js/push.js" in html
    assert 'value="status_update"' in html and 'value="issue_unanswered"' not in html
    assert "Add to Home Screen" in html  # the iPhone explanation is there for the script to show
    auth.logout()
    auth.login("coordinator")
    assert 'value="issue_unanswered"' in client.get("/settings").get_data(as_text=True)


def test_the_page_turns_this_device_on_and_off(app, world, service, client, auth):
    auth.login("customer")
    headers = {"X-CSRFToken": csrf_of(client.get("/settings").get_data(as_text=True)),
               "Accept": "application/json"}
    body = {"subscription": service.subscription(service.new_device()),
            "events": ["status_update", "issue_opened"]}
    on = client.post("/push/subscription", json=body, headers=headers)
    assert on.status_code == 201 and on.json["subscription"]["events"] == ["issue_opened", "status_update"]
    # Coming back to the page re-sends the subscription without events: the choice is kept.
    back = client.post("/push/subscription", json={"subscription": body["subscription"]}, headers=headers)
    assert back.status_code == 200 and back.json["subscription"]["events"] == ["issue_opened", "status_update"]
    everything = list(ROLE_EVENTS["customer"])  # every kind a customer can have (enquiry answers too)
    every = client.post("/push/subscription", json={**body, "events": everything}, headers=headers)
    assert every.json["subscription"]["events"] == everything
    assert list(stored(app).values()) == [("customer", [])]  # all: future kinds too
    off = client.post("/push/subscription/delete", json={"endpoint": body["subscription"]["endpoint"]},
                      headers=headers)
    assert off.status_code == 200 and off.json == {"removed": True} and stored(app) == {}


def test_the_page_needs_the_csrf_token(app, world, service, client, auth):
    auth.login("customer")
    body = {"subscription": service.subscription(service.new_device())}
    assert client.post("/push/subscription", json=body, headers={"Accept": "application/json"}).status_code == 400
    assert stored(app) == {}


def test_a_device_can_be_stopped_from_the_list_without_javascript(app, world, service, client, auth):
    auth.login("customer")
    headers = {"X-CSRFToken": csrf_of(client.get("/settings").get_data(as_text=True))}
    client.post("/push/subscription", json={"subscription": service.subscription(service.new_device())},
                headers={**headers, "User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/130 Mobile"})
    html = client.get("/settings").get_data(as_text=True)
    assert "Chrome · Android" in html
    action = re.search(r'action="(/push/devices/\d+/delete)"', html).group(1)
    answer = client.post(action, data={"csrf_token": csrf_of(html), "client_id": "stop-device-0001"})
    assert answer.status_code == 303 and stored(app) == {}
    assert "no more notifications" in client.get("/settings").get_data(as_text=True)


def test_a_device_that_changes_hands_stops_getting_the_old_owners_notifications(app, world, service, client):
    body = service.subscription(service.new_device())
    client.post("/api/v1/push/subscriptions", json=body, headers=bearer(app, "customer"))
    client.post("/api/v1/push/subscriptions", json=body, headers=bearer(app, "producer"))
    assert stored(app) == {body["endpoint"]: ("producer", [])}


def test_a_person_keeps_at_most_the_newest_devices(app, world, service, client):
    app.config["PUSH_MAX_DEVICES"] = 3
    headers = bearer(app, "customer")
    bodies = [service.subscription(service.new_device()) for _ in range(5)]
    for body in bodies:
        client.post("/api/v1/push/subscriptions", json=body, headers=headers)
    assert set(stored(app)) == {b["endpoint"] for b in bodies[2:]}


# --- VAPID keys and the allow-list --------------------------------------------------------

def test_vapid_keys_are_made_once_private_to_the_server_and_kept(tmp_path, database_url, runner):
    first = runner.invoke(args=["vapid-keys"])
    assert first.exit_code == 0, first.output
    path = tmp_path / "instance" / "vapid_private.pem"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = first.output.strip().rsplit(" ", 1)[-1]
    again = runner.invoke(args=["vapid-keys"])
    assert "Keeping" in again.output and again.output.strip().endswith(key)
    other = make_app(tmp_path, database_url)  # a restart reads the same key
    with other.app_context():
        assert load_keys().application_server_key == key


def test_vapid_keys_can_be_given_in_the_settings(tmp_path, database_url):
    """SECGO_VAPID_PRIVATE_KEY / _PUBLIC_KEY become these config values (secgo/config.py)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from secgo.push.vapid import _keys, b64url

    private = ec.generate_private_key(ec.SECP256R1())
    raw = b64url(private.private_numbers().private_value.to_bytes(32, "big"))
    expected = _keys(private).application_server_key
    app = make_app(tmp_path, database_url, VAPID_PRIVATE_KEY=raw, VAPID_PUBLIC_KEY=expected)
    with app.app_context():
        assert load_keys().application_server_key == expected
    assert not (tmp_path / "instance" / "vapid_private.pem").exists()
    wrong = b64url(b"\x04" + b"\x01" * 64)
    other = make_app(tmp_path, database_url, VAPID_PRIVATE_KEY=raw, VAPID_PUBLIC_KEY=wrong)
    with other.app_context(), pytest.raises(ValueError):
        load_keys()


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAAAB",
    "https://web.push.apple.com/QGuQyavXutnMH",
    "https://db5p.notify.windows.com/w/?token=BQYAAAD",
    "https://FCM.googleapis.com:443/fcm/send/x",
])
def test_the_known_push_services_are_allowed(endpoint):
    assert safe_endpoint(endpoint, DEFAULT_HOSTS)


@pytest.mark.parametrize("endpoint", [
    "http://fcm.googleapis.com/fcm/send/x",
    "https://fcm.googleapis.com:8443/fcm/send/x",
    "https://fcm.googleapis.com.evil.example/x",
    "https://evil.example/fcm.googleapis.com",
    "https://evil.example#fcm.googleapis.com",
    "https://me@fcm.googleapis.com/x",
    "https://notify.windows.com/w/",
    "https://10.0.0.1.notify.windows.com.evil/w",
    "https://fcm.googleapis.com./x",
    "https://fcm.googleаpis.com/x",  # a Cyrillic a
    "https://fcm.googleapis.com/x y",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/",
    "file:///etc/passwd",
    "",
    "https://fcm.googleapis.com/" + "x" * 1000,
])
def test_anything_else_is_refused(endpoint):
    assert safe_endpoint(endpoint, DEFAULT_HOSTS) is None


def test_a_double_tap_on_turn_on_stores_one_subscription(app, world, service, live_server):
    import threading

    import requests

    headers = bearer(app, "customer")
    body = service.subscription(service.new_device())
    answers = []

    def tap(n):
        answers.append(requests.post(f"{live_server.url}/api/v1/push/subscriptions", json=body, timeout=30,
                                     headers={**headers, "Idempotency-Key": f"double-tap-{n:04d}"}).status_code)

    taps = [threading.Thread(target=tap, args=(n,)) for n in range(4)]
    for t in taps:
        t.start()
    for t in taps:
        t.join()
    assert sorted(answers) == [200, 200, 200, 201] and len(stored(app)) == 1
