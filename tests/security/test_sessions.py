"""Attacks on sessions: a cookie kept after logout, a remember cookie replayed, credentials
that outlive a password change or a reset, and the password change itself."""
import re

from sqlalchemy import select

from secgo.auth import services
from secgo.extensions import db
from secgo.models import User
from tests.conftest import Auth, make_app
from tests.factories import PASSWORD
from tests.test_orders import make_order

SESSION, REMEMBER = "secgo_session", "remember_token"
NEW_PASSWORD = "a brand new long password"


def csrf_token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"', html).group(1)


def cookie(client, name):
    return client.get_cookie(name).value


def only_cookies(client, **values):
    """Keep just these cookies, as an attacker replaying copied ones would send them."""
    for name in (SESSION, REMEMBER):
        client.delete_cookie(name)
    for name, value in values.items():
        client.set_cookie(name, value)


def refused(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, **kwargs):
    return client.post("/settings", data={
        "action": "password", "pw-current": current, "pw-password": new, "pw-confirm": new,
        "pw-csrf_token": csrf_token(client, "/settings"),
    }, **kwargs)


def api_token(app, world, username="producer") -> dict:
    with app.app_context():
        secret = services.create_api_token(db.session.get(User, world.users[username]), "ERP")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_old_session_cookie_cannot_read_even_a_kept_page_after_logout(app, world, client, auth):
    make_order(app, world, product="Kampot pepper")
    auth.login("producer")
    assert client.get("/orders").status_code == 200
    assert "Kampot pepper" in client.get("/orders").get_data(as_text=True)  # kept by the page cache
    stolen = cookie(client, SESSION)
    auth.logout()
    only_cookies(client, **{SESSION: stolen})
    response = client.get("/orders")
    assert refused(response) and b"Kampot pepper" not in response.data


def test_old_session_cookie_cannot_write_after_logout(app, world, client, auth):
    auth.login("producer")
    token = csrf_token(client, "/settings")
    stolen = cookie(client, SESSION)
    auth.logout()
    only_cookies(client, **{SESSION: stolen})
    response = client.post("/settings", data={
        "action": "profile", "profile-display_name": "Hijacked", "profile-locale": "en",
        "profile-timezone": "Asia/Bangkok", "profile-csrf_token": token,
    })
    assert refused(response)
    with app.app_context():
        assert db.session.get(User, world.users["producer"]).display_name == "Producer"


def test_old_remember_cookie_cannot_log_in_again_after_logout(app, world, client, auth):
    auth.login("producer")
    stolen = cookie(client, REMEMBER)
    auth.logout()
    only_cookies(client, **{REMEMBER: stolen})
    assert refused(client.get("/orders"))


def test_logout_on_one_instance_ends_the_session_on_every_instance(
        tmp_path, database_url, app, world, client, auth):
    other = make_app(tmp_path / "second", database_url)  # another process or host, same database
    try:
        auth.login("producer")
        second = other.test_client()
        only_cookies(second, **{SESSION: cookie(client, SESSION)})
        assert second.get("/orders").status_code == 200
        auth.logout()
        assert refused(second.get("/orders"))
    finally:
        with other.app_context():
            db.engine.dispose()


def test_password_change_on_settings_shows_success_and_only_the_new_password_works(
        app, world, client, auth):
    auth.login("producer")
    response = change_password(client, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/settings"
    assert "Password changed." in response.get_data(as_text=True)
    auth.logout()
    assert auth.login("producer", PASSWORD).status_code == 401
    assert auth.login("producer", NEW_PASSWORD).status_code == 302


def test_password_change_ends_every_other_session_remember_cookie_and_api_token(
        app, world, client, auth):
    auth.login("producer")
    laptop = app.test_client()
    Auth(laptop).login("producer")
    laptop_remember = cookie(laptop, REMEMBER)
    bearer = api_token(app, world)
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 200

    assert change_password(client).status_code == 302
    assert client.get("/settings").status_code == 200  # the device that changed it stays in
    assert refused(laptop.get("/orders"))
    only_cookies(laptop, **{REMEMBER: laptop_remember})
    assert refused(laptop.get("/orders"))
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401


def test_reset_link_ends_every_session_and_api_token_of_the_account(app, world, client, auth):
    auth.login("producer")  # say, a phone that was lost
    bearer = api_token(app, world)
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        link = services.issue_link(db.session.get(User, world.users["producer"]), "reset", admin)
        db.session.commit()
    owner = app.test_client()
    response = owner.post(f"/invite/{link}", data={
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(owner, f"/invite/{link}"),
    })
    assert response.status_code == 302
    assert owner.get("/orders").status_code == 200
    assert refused(client.get("/orders"))
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "producer"))
        assert user.check_password(NEW_PASSWORD)


def test_a_remember_cookie_unused_for_longer_than_its_lifetime_is_dead_on_the_server(
        app, world, client, auth):
    from datetime import timedelta

    from sqlalchemy import update

    from secgo.models import UserSession, utcnow

    auth.login("producer")
    copied = cookie(client, REMEMBER)
    idle = app.config["REMEMBER_COOKIE_DURATION"] + timedelta(days=1)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - idle))
        db.session.commit()
    only_cookies(client, **{REMEMBER: copied})
    assert refused(client.get("/orders"))


def test_signing_in_again_clears_away_long_ended_sign_ins(app, world, client, auth):
    from datetime import timedelta

    from sqlalchemy import func, update

    from secgo.models import UserSession, utcnow

    for _ in range(3):
        auth.login("producer")
        auth.logout()
    with app.app_context():
        db.session.execute(update(UserSession).values(revoked_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    auth.login("producer")
    with app.app_context():
        assert db.session.scalar(select(func.count(UserSession.id))) == 1
