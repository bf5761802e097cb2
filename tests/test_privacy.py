"""People's data under their control: anyone downloads everything held about them (JSON and
their photos in a zip, never a secret); an admin erases a person, whose account data goes
while the trade records they made stay whole, by "a former member"."""
import io
import json
import uuid
import zipfile

import pytest
from PIL import Image
from sqlalchemy import select, text

from secgo.extensions import db
from secgo.models import ApiToken, AuditEvent, Order, StatusUpdate, User, UserSession

from tests.conftest import Auth


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 140, 90)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def producer_with_history(app, world):
    """The farm's producer, with a photo and an API token."""
    from secgo.attachments.services import save_photo
    from secgo.auth.services import create_api_token
    from secgo.orders.services import post_update

    with app.test_request_context():
        producer = db.session.get(User, world.users["producer"])
        producer.email, producer.phone = "farmer@example.org", "+85512345678"
        producer.display_name = "Sok Dara"
        save_photo(producer, _jpeg())
        create_api_token(producer, "my phone app")
        order = db.session.scalar(select(Order).where(Order.producer_org_id == world.orgs["farm"]))
        post_update(producer, order, {"status": "note", "note": "Packed and labelled"})
        db.session.commit()
    return world


def _export(auth, client, username):
    auth.login(username)
    return client.post("/privacy/export", data={"csrf_token": auth.csrf("/settings")})


def test_a_person_downloads_everything_held_about_them_with_their_photos(app, producer_with_history, auth, client):
    answer = _export(auth, client, "producer")
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert "attachment" in answer.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.data))
    data = json.loads(archive.read("my-data.json"))
    assert data["account"]["username"] == "producer"
    assert data["account"]["email"] == "farmer@example.org"
    assert data["account"]["organization"] == "Takeo Rice Coop"
    tables = set(data["records"])
    assert {"api_tokens.user_id", "user_sessions.user_id", "attachments.uploaded_by_id"} <= tables
    assert [n for n in archive.namelist() if n.startswith("photos/")], "the person's photos"
    assert any(n.startswith("audit_events.") for n in tables)


def test_the_download_never_holds_a_secret(app, producer_with_history, auth, client):
    archive = zipfile.ZipFile(io.BytesIO(_export(auth, client, "producer").data))
    dump = archive.read("my-data.json").decode()
    with app.app_context():
        producer = db.session.get(User, producer_with_history.users["producer"])
        secrets = [producer.password_hash] + [t.token_hash for t in db.session.scalars(select(ApiToken))]
        secrets += [s.secret_hash for s in db.session.scalars(select(UserSession))]
    for secret in secrets:
        assert secret not in dump
    for key in ('"password_hash"', '"token_hash"', '"secret_hash"'):
        assert key not in dump


def test_someone_elses_data_is_not_in_my_download(app, producer_with_history, auth, client):
    archive = zipfile.ZipFile(io.BytesIO(_export(auth, client, "customer").data))
    data = json.loads(archive.read("my-data.json"))
    assert data["account"]["username"] == "customer"
    assert "farmer@example.org" not in archive.read("my-data.json").decode()
    assert not [n for n in archive.namelist() if n.startswith("photos/")]


def test_the_download_is_recorded_and_needs_a_login_and_a_post(app, producer_with_history, auth, client):
    assert client.post("/privacy/export").status_code in (302, 400)
    _export(auth, client, "producer")
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "data_exported")) is not None
    assert client.get("/privacy/export").status_code == 405


def _erase(auth, client, user_id, confirm):
    return client.post(f"/privacy/people/{user_id}/erase",
                       data={"csrf_token": auth.csrf(f"/privacy/people/{user_id}/erase"), "confirm": confirm,
                             "client_id": "1b4e28ba-2fa1-41d2-883f-0016d3cca427"})


def test_an_admin_erases_a_person_and_their_reports_stay_by_a_former_member(app, producer_with_history, auth, client):
    world = producer_with_history
    uid = world.users["producer"]
    with app.app_context():
        updates_before = db.session.scalar(select(db.func.count()).select_from(StatusUpdate)
                                           .where(StatusUpdate.author_id == uid))
    producer_client = app.test_client()
    Auth(producer_client).login("producer")
    assert producer_client.get("/orders").status_code == 200

    auth.login("admin")
    answer = _erase(auth, client, uid, "producer")
    assert answer.status_code in (302, 303)

    with app.app_context():
        person = db.session.get(User, uid)
        assert person.username == f"erased-{uid}" and person.email is None and person.phone is None
        assert person.password_hash is None and not person.active and person.erased_at is not None
        assert person.display_name == "A former member"
        assert db.session.scalar(select(db.func.count()).select_from(ApiToken).where(ApiToken.user_id == uid)) == 0
        assert db.session.scalar(select(db.func.count()).select_from(StatusUpdate)
                                 .where(StatusUpdate.author_id == uid)) == updates_before
        reference = db.session.scalar(select(Order.reference).join(StatusUpdate, StatusUpdate.order_id == Order.id)
                                      .where(StatusUpdate.author_id == uid).limit(1))
        assert reference, "the world has an update by the producer"
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person_erased")).subject_id == uid
    assert producer_client.get("/orders").status_code == 302, "the erased person is signed out at once"
    auth.logout()
    auth.login("customer")
    page = client.get(f"/orders/{reference}").get_data(as_text=True)
    assert "A former member" in page and "Sok Dara" not in page


def test_erasing_needs_the_login_typed_and_changes_nothing_otherwise(app, producer_with_history, auth, client):
    uid = producer_with_history.users["producer"]
    auth.login("admin")
    client.post("/language", data={"lang": "km", "csrf_token": auth.csrf("/offline")})
    answer = _erase(auth, client, uid, "someone-else")
    assert answer.status_code == 422 and 'id="e-confirm"' in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, uid).erased_at is None


@pytest.mark.parametrize("who, status", [("coordinator", 403), ("producer", 403), ("customer", 403)])
def test_only_an_admin_may_erase(app, producer_with_history, auth, client, who, status):
    uid = producer_with_history.users["other_producer"]
    auth.login(who)
    assert client.get(f"/privacy/people/{uid}/erase").status_code == status
    assert _erase(auth, client, uid, "other_producer").status_code == status
    with app.app_context():
        assert db.session.get(User, uid).erased_at is None


def test_an_admin_cannot_erase_themself(app, producer_with_history, auth, client):
    uid = producer_with_history.users["admin"]
    auth.login("admin")
    assert _erase(auth, client, uid, "admin").status_code == 409
    with app.app_context():
        assert db.session.get(User, uid).erased_at is None


def test_the_shell_command_erases_too(app, producer_with_history, runner):
    result = runner.invoke(args=["user", "erase", "customer", "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(text("SELECT erased_at FROM users WHERE id = :i"),
                                  {"i": producer_with_history.users["customer"]}).scalar() is not None


@pytest.mark.parametrize("body", [
    b"{not json", b'{"confirm": ["producer"]}', b'{"confirm": {"$ne": ""}}', b'{"confirm": 7}',
    b'["producer"]', b'{"confirm": "' + b"x" * 100_000 + b'"}', b"[" * 5000 + b"]" * 5000,
])
def test_a_hostile_erase_request_is_refused_cleanly_and_erases_nobody(
        app, producer_with_history, auth, client, body):
    uid = producer_with_history.users["producer"]
    auth.login("admin")
    answer = client.post(f"/privacy/people/{uid}/erase", data=body, headers={
        "Content-Type": "application/json", "Accept": "application/json",
        "X-CSRFToken": auth.csrf(f"/privacy/people/{uid}/erase"), "Idempotency-Key": str(uuid.uuid4())})
    assert 400 <= answer.status_code < 500 and answer.is_json, (answer.status_code, answer.data[:200])
    assert answer.get_json().get("error"), "a message the page can show"
    with app.app_context():
        assert db.session.get(User, uid).erased_at is None
