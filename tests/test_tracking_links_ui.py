"""Tracking links as people use them: copy and share in the sharer's language, back to the
order, revoking asks first and says it is done, an ended link says what happened and whom to
ask (410), never "Not found" with a log-in link."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from secgo.extensions import db
from secgo.models import TrackingLink, User, utcnow
from tests.test_orders import NO_CSRF, make_order
from tests.test_tracking import create_link

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)


def test_a_new_link_page_offers_copy_and_share_and_goes_back_to_the_order(app, world, client, auth):
    ref = make_order(app, world, product="Jasmine rice")
    auth.login("producer")
    html = client.post(f"/orders/{ref}/links", data={"contact_name": "Somchai", "days": "7"}
                       ).get_data(as_text=True)
    assert f'href="/orders/{ref}">Back to the order' in html
    assert "data-share hidden" in html and 'data-copy="link" hidden' in html  # shown by share.js
    assert f"Order {ref} (Jasmine rice, 100" in html and "Link copied" in html
    assert "/static/js/share.js" in html
    assert client.get("/static/js/share.js").status_code == 200


def test_the_share_text_is_in_the_sharers_language(app, world, client, auth):
    ref = make_order(app, world)
    with app.app_context():
        db.session.get(User, world.users["producer"]).locale = "th"
        db.session.commit()
    auth.login("producer")
    html = client.post(f"/orders/{ref}/links", data={"contact_name": "Somchai"}).get_data(as_text=True)
    assert '<html lang="th"' in html
    assert f"Order {ref} (" not in html and "Link copied" not in html


def test_revoking_asks_first_and_says_it_is_done(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    token = create_link(client, ref, name="Night shift")
    listing = client.get(f"/orders/{ref}/links").get_data(as_text=True)
    assert '<details class="revoke">' in listing and "Yes, revoke the link" in listing
    assert "Night shift will no longer see this order" in listing
    with app.app_context():
        link_id = db.session.scalar(select(TrackingLink.id))
    revoked = client.post(f"/orders/{ref}/links/{link_id}/revoke", follow_redirects=True)
    assert revoked.status_code == 200 and "Link revoked. It no longer works." in revoked.get_data(as_text=True)
    auth.logout()
    assert client.get(f"/t/{token}").status_code == 410


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_an_ended_link_says_what_happened_and_whom_to_ask(app, world, client, auth, how):
    ref = make_order(app, world)
    auth.login("producer")
    token = create_link(client, ref)
    with app.app_context():
        link = db.session.scalar(select(TrackingLink))
        if how == "revoked":
            link.revoked_at = utcnow()
        else:
            link.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    auth.logout()
    response = client.get(f"/t/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 410 and response.headers["Cache-Control"] == "no-store"
    assert ("was turned off" if how == "revoked" else "has expired") in html
    assert "ask Takeo Rice Coop or Bangkok Buyer for a new link" in html and ref in html
    assert "Not found" not in html and "/login" not in html
    assert "Warehouse clerk Somchai" not in html  # nothing the clerk did not need
    as_json = client.get(f"/t/{token}", headers={"Accept": "application/json"})
    assert as_json.status_code == 410 and as_json.json["error"]["code"] == "link_ended"
    photo = client.get(f"/t/{token}/photos/1")
    assert photo.status_code == 410


@pytest.mark.parametrize("token", ["x" * 30, "abc.def", "a" * 40 + ".bad", "%00" * 10, "é" * 25 + ".x"])
def test_hostile_tokens_are_not_found(app, world, client, token):
    assert client.get(f"/t/{token}").status_code in (400, 404)
