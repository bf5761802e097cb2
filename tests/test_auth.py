"""Logging in and out, invite and reset links, settings, API tokens, throttling and CSRF."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from secgo.auth import services
from secgo.extensions import db
from secgo.models import ApiToken, Invite, User, utcnow
from tests.factories import PASSWORD


def csrf_token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_login_with_username_shows_the_home_page(client, auth, world):
    response = auth.login("producer")
    assert response.status_code == 302
    assert client.get("/orders").status_code == 200


@pytest.mark.parametrize("identifier", ["producer@example.org", "+855 12 345 678", "PRODUCER"])
def test_login_with_email_or_phone_works_too(app, client, auth, world, identifier):
    with app.app_context():
        user = db.session.get(User, world.users["producer"])
        user.email, user.phone = "producer@example.org", "+85512345678"
        db.session.commit()
    assert auth.login(identifier).status_code == 302


def test_wrong_password_is_refused_with_a_clear_message(client, auth, world):
    response = auth.login("producer", "wrong password!")
    assert response.status_code == 401
    assert "Wrong login or password." in response.get_data(as_text=True)
    assert client.get("/orders").status_code == 302


def test_wrong_password_message_is_localised(app, client, world):
    client.set_cookie("secgo_lang", "th")
    response = client.post("/login", data={"login": "producer", "password": "nope-nope-nope"})
    assert '<html lang="th"' in response.get_data(as_text=True)


def test_deactivated_account_cannot_log_in(app, auth, world):
    with app.app_context():
        db.session.get(User, world.users["producer"]).active = False
        db.session.commit()
    assert auth.login("producer").status_code == 401


def test_login_sets_a_long_lived_remember_cookie(client, auth, world):
    response = auth.login("producer")
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember and "SameSite=Lax" in remember
    expires = re.search(r"Expires=([^;]+)", remember).group(1)
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(expires) - utcnow() > timedelta(days=300)


def test_session_cookie_is_httponly_and_samesite(client):
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure_by_default():
    from secgo.config import Config

    assert Config.SESSION_COOKIE_SECURE and Config.REMEMBER_COOKIE_SECURE


def test_logout_ends_the_session_and_clears_cached_pages(client, auth, world):
    auth.login("producer")
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache"'
    assert client.get("/orders").status_code == 302


def test_form_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"login": "producer", "password": PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_api_write_without_csrf_header_is_refused_for_cookie_sessions(client, auth, world):
    auth.login("producer")
    response = client.post("/api/v1/me", json={})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"


def test_login_is_throttled_with_a_localised_message(client, world):
    token = csrf_token(client)
    form = {"login": "producer", "password": "bad-password-x", "csrf_token": token}
    statuses = [client.post("/login", data=form).status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[-1] == 429
    last = client.post("/login", data=form)
    assert "Too many attempts" in last.get_data(as_text=True)


def test_login_throttle_answers_json_to_scripts(client, world):
    form = {"login": "x", "password": "y", "csrf_token": csrf_token(client)}
    for _ in range(11):
        response = client.post("/login", data=form, headers={"Accept": "application/json"})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"


@pytest.fixture
def invited(app, world):
    """A new person invited by the coordinator: (user id, token)."""
    with app.app_context():
        farm = db.session.get(User, world.users["producer"]).organization
        coordinator = db.session.get(User, world.users["coordinator"])
        user = services.create_user(username="new-member", display_name="Srey Mom",
                                    role="producer", organization=farm)
        token = services.issue_link(user, "invite", coordinator)
        db.session.commit()
        return user.id, token


def test_invite_link_sets_a_password_and_logs_in(client, invited):
    _, token = invited
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200 and "Srey Mom" in page.get_data(as_text=True)
    response = client.post(f"/invite/{token}", data={
        "password": "a new long password", "confirm": "a new long password",
        "csrf_token": csrf_token(client, f"/invite/{token}"),
    })
    assert response.status_code == 302
    assert client.get("/orders").status_code == 200


def test_invite_link_works_only_once(app, invited):
    _, token = invited
    with app.app_context():
        invite = services.find_link(token)
        services.redeem_link(invite, "first password ok")
        db.session.commit()
        assert services.find_link(token) is None
    client = app.test_client()
    assert client.get(f"/invite/{token}").status_code == 404


def test_expired_invite_link_is_refused(app, client, invited):
    _, token = invited
    with app.app_context():
        invite = db.session.scalar(select(Invite))
        invite.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = client.get(f"/invite/{token}")
    assert response.status_code == 404
    assert "expired" in response.get_data(as_text=True)


def test_short_or_mismatched_password_is_refused(client, invited):
    _, token = invited
    token_value = csrf_token(client, f"/invite/{token}")
    short = client.post(f"/invite/{token}", data={"password": "short", "confirm": "short", "csrf_token": token_value})
    assert "Use 10 to 200 characters." in short.get_data(as_text=True)
    differ = client.post(f"/invite/{token}", data={
        "password": "long enough one", "confirm": "long enough two", "csrf_token": token_value})
    assert "The two passwords differ." in differ.get_data(as_text=True)


def test_a_newer_link_replaces_the_older_one(app, invited):
    user_id, old = invited
    with app.app_context():
        user = db.session.get(User, user_id)
        new = services.issue_link(user, "reset", None)
        db.session.commit()
        assert services.find_link(old) is None
        assert services.find_link(new) is not None


def test_password_reset_logs_out_other_devices(app, auth, client, world):
    auth.login("producer")
    assert client.get("/orders").status_code == 200
    with app.app_context():
        user = db.session.get(User, world.users["producer"])
        token = services.issue_link(user, "reset", None)
        services.redeem_link(services.find_link(token), "a brand new password")
        db.session.commit()
    client.delete_cookie("remember_token")
    assert client.get("/orders").status_code == 302


def test_settings_change_language_and_time_zone(client, auth, world):
    auth.login("customer")
    response = client.post("/settings", data={
        "action": "profile", "profile-display_name": "Anong", "profile-locale": "km",
        "profile-timezone": "Asia/Yangon", "profile-csrf_token": csrf_token(client, "/settings"),
    })
    assert response.status_code == 302
    assert '<html lang="km"' in client.get("/settings").get_data(as_text=True)


def test_settings_refuse_an_unknown_language(client, auth, world):
    auth.login("customer")
    response = client.post("/settings", data={
        "action": "profile", "profile-display_name": "Anong", "profile-locale": "xx",
        "profile-timezone": "Asia/Yangon", "profile-csrf_token": csrf_token(client, "/settings"),
    })
    assert response.status_code == 422


def test_password_change_needs_the_current_password(client, auth, world):
    auth.login("customer")
    response = client.post("/settings", data={
        "action": "password", "pw-current": "not my password", "pw-password": "another long one",
        "pw-confirm": "another long one", "pw-csrf_token": csrf_token(client, "/settings"),
    })
    assert "This is not your current password." in response.get_data(as_text=True)


def test_api_token_is_shown_once_then_authenticates_and_can_be_revoked(app, client, auth, world):
    auth.login("customer")
    page = client.post("/settings", data={
        "action": "token", "token-name": "ERP", "token-csrf_token": csrf_token(client, "/settings"),
    }).get_data(as_text=True)
    token = re.search(r'<code class="token">([^<]+)</code>', page).group(1)
    api = app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == "customer"
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    client.post("/settings", data={"action": "revoke", "token_id": token_id,
                                   "csrf_token": csrf_token(client, "/settings")})
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_bearer_token_is_never_stored_in_clear(app, world):
    with app.app_context():
        user = db.session.get(User, world.users["customer"])
        token = services.create_api_token(user, "ERP")
        db.session.commit()
        row = db.session.scalar(select(ApiToken))
        assert token not in (row.token_hash, row.prefix)


def test_wrong_bearer_token_gets_401_json(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_next_parameter_cannot_redirect_off_site(client, world):
    token = csrf_token(client)
    response = client.post("/login?next=https://evil.example/", data={
        "login": "producer", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_cookies_go_out_once_a_day_not_with_every_answer(app, client, auth, world, monkeypatch):
    """On 2G every answer's bytes count: the session and remember cookies are sent again on the
    first request of a day (keeping the sign-in a year from the last day of use), not on each."""
    import secgo.authn as authn

    auth.login("producer")
    assert client.get("/settings").headers.getlist("Set-Cookie") == []
    assert client.get("/orders/new").headers.getlist("Set-Cookie") == []
    tomorrow = utcnow() + timedelta(days=1)
    monkeypatch.setattr(authn, "utcnow", lambda: tomorrow)
    cookies = client.get("/settings").headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(re.search(r"Expires=([^;]+)", remember).group(1)) - utcnow() > timedelta(days=364)
    assert any(c.startswith("secgo_session=") for c in cookies)
    assert client.get("/settings").headers.getlist("Set-Cookie") == []  # once that day
    assert client.get("/settings").status_code == 200  # still signed in
