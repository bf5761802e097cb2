"""Attack: a session cookie plus a made-up bearer token, to skip CSRF on an API write."""
from sqlalchemy import func, select

from secgo.auth import services
from secgo.extensions import db
from secgo.models import Order, User

ORDER = {"product": "Forged rice", "quantity": 100, "unit": "kg", "origin": "Takeo",
         "destination": "Bangkok"}


def orders(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Order.id)))


def test_session_cookie_with_a_junk_bearer_cannot_write_without_csrf(app, world, client, auth):
    auth.login("producer")
    before = orders(app)
    for junk in ("Bearer junk", "Bearer ", "Bearer sg_" + "x" * 43):
        response = client.post("/api/v1/orders", json={**ORDER, "customer_org_id": world.orgs["buyer"]},
                               headers={"Authorization": junk, "Idempotency-Key": f"forged-{len(junk)}"})
        assert response.status_code == 401, (junk, response.status_code)
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert orders(app) == before


def test_a_bearer_request_is_the_token_owner_whatever_session_cookie_comes_with_it(
        app, world, client, auth):
    with app.app_context():
        secret = services.create_api_token(db.session.get(User, world.users["customer"]), "ERP")
        db.session.commit()
    auth.login("producer")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.get_json()["username"] == "customer"

