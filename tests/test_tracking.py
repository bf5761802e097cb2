"""Tracking links: a buyer's clerk without an account sees the timeline, confirms receipt,
reports a problem, and nothing else; links expire and can be revoked."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from secgo.extensions import db
from secgo.models import DeliveryConfirmation, Issue, Order, TrackingLink, utcnow
from tests.test_orders import NO_CSRF, make_order, post_update
from tests.test_photos import jpeg_with_gps, multipart

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)


def create_link(client, ref, name="Warehouse clerk Somchai", days="30"):
    response = client.post(f"/orders/{ref}/links", data={"contact_name": name, "days": days})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    url = re.search(r'value="(http[^"]+/t/[^"]+)"', page).group(1)
    assert "<svg" in page  # the QR code
    return url.split("/t/", 1)[1]


def test_a_link_shows_the_timeline_with_photos_without_an_account(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    body, content_type = multipart({"status": "dispatched", "note": "Truck left Takeo"},
                                   [("photos", "p.jpg", jpeg_with_gps())])
    client.post(f"/orders/{ref}/updates", data=body, content_type=content_type)
    token = create_link(client, ref)
    with app.app_context():
        link = db.session.scalar(select(TrackingLink))
        assert link.token_hash != token and len(link.token_hash) == 64
    auth.logout()
    page = client.get(f"/t/{token}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "Truck left Takeo" in html and "Confirm receipt" in html and "Report a problem" in html
    photo = re.search(rf'src="(/t/{re.escape(token)}/photos/\d+\?size=thumb)"', html).group(1)
    assert client.get(photo).status_code == 200
    assert client.get(photo.split("?")[0]).status_code == 200
    assert "Post a correction" not in html and "Report status" not in html
    # The link opens nothing else.
    assert client.get(f"/orders/{ref}").status_code == 302
    assert client.get("/api/v1/orders").status_code == 401


def test_the_contact_confirms_receipt_and_a_short_delivery_opens_an_issue(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    token = create_link(client, ref)
    auth.logout()
    short = {"received_quantity": "90", "condition": "good", "client_id": "track-receipt-01"}
    asked = client.post(f"/t/{token}/receipt", data=short)  # the page says an issue will open
    assert asked.status_code == 422 and 'name="open_issue" value="1"' in asked.get_data(as_text=True)
    response = client.post(f"/t/{token}/receipt", data={**short, "open_issue": "1"})
    assert response.status_code == 303
    again = client.post(f"/t/{token}/receipt", data={**short, "open_issue": "1"})
    assert again.status_code == 303
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        delivery = db.session.scalar(select(DeliveryConfirmation).where(
            DeliveryConfirmation.order_id == order.id))
        assert delivery.confirmed_by_label == "Warehouse clerk Somchai" and delivery.confirmed_by_id is None
        issue = db.session.scalar(select(Issue).where(Issue.order_id == order.id))
        assert issue.raised_by_label == "Warehouse clerk Somchai"
    assert "Confirm receipt" not in client.get(f"/t/{token}").get_data(as_text=True)


def test_the_contact_reports_a_problem(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    token = create_link(client, ref)
    auth.logout()
    bad = client.post(f"/t/{token}/problem", data={"category": "weather", "title": ""})
    assert bad.status_code == 422
    ok = client.post(f"/t/{token}/problem", data={"category": "quality", "title": "Wet bags",
                                                  "description": "<b>3 bags</b>"})
    assert ok.status_code == 303
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Wet bags" in html


def test_the_clerk_reports_a_problem_with_a_quick_phrase_read_in_each_language(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    token = create_link(client, ref)
    auth.logout()
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert page.count("Confirm receipt") == 1  # one step, one button
    assert 'name="phrase_goods_wet"' in page
    ok = client.post(f"/t/{token}/problem", data={"category": "quality", "phrase_goods_wet": "1"})
    assert ok.status_code == 303
    client.post("/language", data={"lang": "th"})
    assert "สินค้าเปียกน้ำ" in client.get(f"/t/{token}").get_data(as_text=True)


def test_revoked_and_expired_links_stop_working(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    token = create_link(client, ref)
    other = create_link(client, ref, name="Night shift")
    with app.app_context():
        first, second = db.session.scalars(select(TrackingLink).order_by(TrackingLink.id)).all()
        second.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        first_id = first.id
    listing = client.get(f"/orders/{ref}/links").get_data(as_text=True)
    assert "Warehouse clerk Somchai" in listing and "Night shift" not in listing  # expired
    assert client.post(f"/orders/{ref}/links/{first_id}/revoke").status_code == 303
    auth.logout()
    # A link that ended says so (410) and whom to ask; a forged one is still "not found".
    assert client.get(f"/t/{token}").status_code == 410
    assert client.get(f"/t/{other}").status_code == 410
    assert client.post(f"/t/{token}/problem", data={"category": "quality", "title": "x"}).status_code == 410
    assert client.get(f"/t/{token[:-2]}xx").status_code == 404


def test_a_link_cannot_be_made_or_revoked_on_someone_elses_order(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    create_link(client, ref)
    with app.app_context():
        link_id = db.session.scalar(select(TrackingLink.id))
    auth.logout()
    auth.login("other_customer")
    assert client.post(f"/orders/{ref}/links", data={"contact_name": "x"}).status_code == 404
    assert client.post(f"/orders/{ref}/links/{link_id}/revoke").status_code == 404


def test_link_form_limits(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    assert client.post(f"/orders/{ref}/links", data={"contact_name": "", "days": "30"}).status_code == 422
    assert client.post(f"/orders/{ref}/links", data={"contact_name": "x", "days": "9999"}).status_code == 422
    _ = post_update


def test_a_forged_or_tampered_link_is_not_found(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    token = create_link(client, ref)
    auth.logout()
    secret, signature = token.rsplit(".", 1)
    assert client.get(f"/t/{secret}").status_code == 404
    assert client.get(f"/t/{secret}.{signature[::-1]}").status_code == 404
    assert client.get(f"/t/{'A' * 43}.{signature}").status_code == 404
    assert client.get(f"/t/{token}").status_code == 200
