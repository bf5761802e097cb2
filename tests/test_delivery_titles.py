"""The issue a delivery opens: its title is stored as a code with parameters and read in each
viewer's language (pages, API, CSV, push), and never contradicts the quantity."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import DeliveryConfirmation, Issue, Notification, User
from secgo.push.payload import render as push_payload
from tests.test_api_orders import token_for
from tests.test_orders import NO_CSRF, make_order
from tests.test_phrases import set_locale
from tests.test_tracking import create_link

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)


def issue_of(app):
    with app.app_context():
        return db.session.scalar(select(Issue).where(Issue.title_phrase.is_not(None)))


def test_a_short_delivery_through_a_thai_link_reads_in_each_viewers_language(app, world, client, auth):
    ref = make_order(app, world, quantity="8", unit="t")
    auth.login("customer")
    token = create_link(client, ref)
    auth.logout()
    client.set_cookie("secgo_lang", "th")
    response = client.post(f"/t/{token}/receipt", data={
        "received_quantity": "7.5", "condition": "short", "open_issue": "1"})
    assert response.status_code == 303
    issue = issue_of(app)
    assert issue.title_phrase == {"code": "delivery_short",
                                  "params": {"received": "7.5", "ordered": "8", "unit": "t"}}
    assert issue.title == "Short delivery: received 7.5 t of 8 t"  # English, never the reporter's Thai
    client.delete_cookie("secgo_lang")
    set_locale(app, "producer", "my")
    set_locale(app, "coordinator", "vi")
    auth.login("producer")
    burmese = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    assert "အရေအတွက် မပြည့်:" in burmese and "ไม่ครบจำนวน" not in burmese
    assert "အရေအတွက် မပြည့်:" in client.get(f"/orders/{ref}").get_data(as_text=True)
    auth.logout()
    auth.login("coordinator")
    assert "Thiếu hàng: nhận 7,5" in client.get(f"/issues/{issue.id}").get_data(as_text=True)
    assert "Thiếu hàng" in client.get("/coordinator").get_data(as_text=True)
    csv = client.get("/coordinator/issues.csv").get_data(as_text=True)
    assert "Thiếu hàng: nhận 7,5" in csv
    api = client.get(f"/api/v1/issues/{issue.id}", headers=token_for(app, "coordinator")).json
    assert api["title"].startswith("Thiếu hàng") and api["title_phrase"]["code"] == "delivery_short"
    with app.app_context(), app.test_request_context():
        note = db.session.scalar(select(Notification).where(
            Notification.user_id == world.users["producer"], Notification.issue_id == issue.id))
        payload = push_payload(note, db.session.get(User, world.users["producer"]))
    assert payload["body"].startswith("အရေအတွက် မပြည့်")


def test_good_with_less_than_ordered_is_recorded_as_short(app, world, client, auth):
    ref = make_order(app, world, quantity="20000")
    auth.login("customer")
    response = client.post(f"/api/v1/orders/{ref}/delivery", headers=token_for(app, "customer"),
                           json={"received_quantity": "18500", "condition": "good"})
    assert response.status_code == 201
    assert response.json["condition"] == "short" and response.json["issue_opened"] is True
    issue = issue_of(app)
    assert issue.title == "Short delivery: received 18,500 kg of 20,000 kg"
    assert "Good" not in issue.title and issue.category == "quantity"


def test_short_with_the_full_quantity_is_refused_clearly(app, world, client, auth):
    ref = make_order(app, world)
    set_locale(app, "customer", "th")
    auth.login("customer")
    response = client.post(f"/orders/{ref}/delivery", data={"received_quantity": "100",
                                                           "condition": "short"})
    assert response.status_code == 422
    assert "กรุณาใส่จำนวนที่ได้รับจริง" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(DeliveryConfirmation.id))) == 0


def test_damaged_in_full_is_titled_damaged(app, world, client):
    ref = make_order(app, world)
    response = client.post(f"/api/v1/orders/{ref}/delivery", headers=token_for(app, "customer"),
                           json={"received_quantity": "100", "condition": "damaged",
                                 "phrases": ["damaged_packaging"]})
    assert response.status_code == 201
    issue = issue_of(app)
    assert issue.title == "Damaged delivery: received 100 kg of 100 kg"
    assert issue.phrases == [{"code": "damaged_packaging", "params": {}}]
    assert issue.severity == "high"


def test_a_plain_form_is_told_first_that_an_issue_will_open(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    asked = client.post(f"/orders/{ref}/delivery", data={"received_quantity": "90", "condition": "good"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 422 and "An issue will be opened" in page
    assert 'name="open_issue" value="1"' in page and 'value="90"' in page  # what was typed stays
    with app.app_context():
        assert db.session.scalar(select(func.count(DeliveryConfirmation.id))) == 0
    # The outbox (a script that warned in the page) is not asked again.
    sent = client.post(f"/orders/{ref}/delivery", headers={"Accept": "application/json"},
                       data={"received_quantity": "90", "condition": "good"})
    assert sent.status_code == 201


def test_a_title_typed_before_stays_as_typed(app, world, client, auth):
    make_order(app, world)
    with app.app_context():
        issue = db.session.get(Issue, world.issue)
        issue.title = "การจัดส่ง: ไม่ครบจำนวน ได้รับ 7.5 ต. จาก 8 ต."  # a row from before
        db.session.commit()
    auth.login("producer")
    assert "การจัดส่ง: ไม่ครบจำนวน" in client.get(f"/issues/{world.issue}").get_data(as_text=True)


def test_the_order_page_has_one_button_to_confirm_delivery(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    deliver = page.split('id="deliver"', 1)[1].split("</section>", 1)[0]
    # One button sends it (the signature pad's "Clear" is a plain type="button").
    assert deliver.count("<button") - deliver.count('<button type="button"') == 1
    assert "summary class=\"btn" not in deliver
    assert f'data-ordered="{Decimal("100"):f}"' in deliver and "data-issue-warning" in deliver
