"""Every error page is in the reader's language: the signed-in person's, else the browser's."""
import re

import pytest
from flask_babel import force_locale

from secgo.errors import MESSAGES
from secgo.extensions import db
from secgo.models import User


def _translated(app, lang, status) -> str:
    with app.test_request_context("/"), force_locale(lang):
        text = str(MESSAGES[status])
    with app.test_request_context("/"), force_locale("en"):
        assert text != str(MESSAGES[status]), f"{status} has no {lang} translation"
    return text


def _burmese_producer(app, world, auth):
    with app.app_context():
        user = db.session.get(User, world.users["producer"])
        user.locale, user.timezone = "my", "Asia/Yangon"
        db.session.commit()
    auth.login("producer")


def _page_language(html) -> str:
    return re.search(r'<html lang="(\w+)"', html).group(1)


def test_an_unknown_address_is_in_the_signed_in_persons_language(app, world, client, auth):
    _burmese_producer(app, world, auth)
    response = client.get("/no/such/page", headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert _page_language(html) == "my"
    assert _translated(app, "my", 404) in html
    assert "<summary" in html and "မြန်မာ" in html.split("<summary", 1)[1].split("</summary>")[0]
    assert "English" not in html.split("<summary", 1)[1].split("</summary>")[0]


def test_a_method_the_address_does_not_take_is_in_their_language(app, world, client, auth):
    _burmese_producer(app, world, auth)
    response = client.get("/logout", headers={"Accept-Language": "en"})
    assert response.status_code == 405
    html = response.get_data(as_text=True)
    assert _page_language(html) == "my" and _translated(app, "my", 405) in html


def test_an_expired_form_is_refused_in_their_language(app, world, client, auth):
    _burmese_producer(app, world, auth)
    response = client.post("/settings", data={"action": "profile"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _page_language(html) == "my"
    with app.test_request_context("/"), force_locale("my"):
        from flask_babel import gettext

        expected = gettext("Your form expired or came from elsewhere. Please try again.")
    assert expected in html and "Your form expired" not in html


def test_a_body_too_large_is_refused_in_their_language(app, world, client, auth):
    _burmese_producer(app, world, auth)
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/orders/new", data={"notes": "x" * 5000}, headers={"Accept-Language": "en"})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert _page_language(html) == "my" and _translated(app, "my", 413) in html


def test_too_many_attempts_are_refused_in_their_language(app, world, client, auth):
    _burmese_producer(app, world, auth)
    token = auth.csrf("/settings")
    data = {"action": "password", "csrf_token": token, "pw-current": "wrong password",
            "pw-password": "a new long password", "pw-confirm": "a new long password"}
    for _ in range(30):
        response = client.post("/settings", data=data, headers={"Accept-Language": "en"})
        if response.status_code == 429:
            break
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert _page_language(html) == "my" and "Too many" not in html


@pytest.fixture
def failing_app(app):
    """The app with a page that fails (added before any request)."""

    @app.get("/_test/boom")
    def boom():
        raise RuntimeError("boom")

    return app


def test_a_server_error_is_in_their_language(failing_app, world, client, auth):
    _burmese_producer(failing_app, world, auth)
    response = client.get("/_test/boom", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert _page_language(html) == "my" and _translated(failing_app, "my", 500) in html


@pytest.mark.parametrize("lang", ["km", "lo", "th", "vi"])
def test_a_visitor_gets_an_unknown_address_in_the_browsers_language(app, client, lang):
    response = client.get("/nowhere", headers={"Accept-Language": lang})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert _page_language(html) == lang and _translated(app, lang, 404) in html


def test_an_unknown_api_address_answers_json_in_their_language(app, world, client, auth):
    _burmese_producer(app, world, auth)
    response = client.get("/api/v1/nowhere", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == _translated(app, "my", 404)


def test_a_missing_static_file_does_not_load_the_user(app, world, client, auth):
    _burmese_producer(app, world, auth)
    response = client.get("/static/js/nothing-here.js")
    assert response.status_code == 404
