"""In Chromium at 360 px: confirming stays where it was tapped (no reload, no jump), all pending
updates at once, and the delivery form says an issue will open before it is sent."""
import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import Order, StatusUpdate, User
from secgo.orders import services
from tests.browser.test_handover import draw_signature
from tests.browser.test_order_flow import set_locale, wait_until
from tests.test_orders import make_order

pytestmark = pytest.mark.once



def post_updates(app, ref, statuses):
    """The producer's updates, through the service."""
    with app.test_request_context():
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        producer = db.session.scalar(select(User).where(User.username == "producer"))
        for status in statuses:
            services.post_update(producer, order, {"status": status, "phrase_truck_left": "1"}
                                 if status == "dispatched" else {"status": status})
        db.session.commit()


def confirmed(app):
    return db.session.scalar(select(func.count(StatusUpdate.id)).where(
        StatusUpdate.confirmed_at.is_not(None)))


@pytest.mark.parametrize("locale", ["th", "my"])
def test_confirming_stays_in_place_and_all_can_be_confirmed_at_once(
        app, world, live_server, page, login, screenshot, locale):
    ref = make_order(app, world)
    post_updates(app, ref, ["in_production", "ready", "dispatched"])
    set_locale(app, "customer", locale)
    login("customer")
    page.goto(f"{live_server.url}/orders/{ref}")
    page.wait_for_selector("form[data-confirm-all]")
    screenshot(f"order-confirm-before-{locale}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # One update, the oldest (lowest on the page): scrolled to, tapped, confirmed where it is.
    oldest = page.locator("form[data-confirm]").last
    oldest.scroll_into_view_if_needed()
    page.evaluate("window.__stay = 1")
    before = page.evaluate("window.scrollY")
    oldest.locator("button").click()
    page.wait_for_selector(".confirm-done.chip-ok")
    wait_until(app, lambda: confirmed(app) == 1)
    assert page.evaluate("window.__stay") == 1  # no reload
    assert abs(page.evaluate("window.scrollY") - before) < 80  # no jump
    assert page.locator("form[data-confirm]").count() == 2
    screenshot(f"order-confirm-one-{locale}")
    # The rest at once: the button counts only what still waits.
    all_button = page.locator("form[data-confirm-all] button")
    assert "2" in all_button.inner_text()
    all_button.click()
    page.wait_for_selector(".confirm-done >> nth=2")
    wait_until(app, lambda: confirmed(app) == 3)
    assert page.evaluate("window.__stay") == 1
    assert page.locator("form[data-confirm]").count() == 0
    screenshot(f"order-confirm-all-{locale}")


def test_the_delivery_form_says_an_issue_will_open_and_makes_it_short(
        app, world, live_server, page, login, screenshot):
    ref = make_order(app, world)
    post_updates(app, ref, ["in_production", "ready", "dispatched", "in_transit"])
    set_locale(app, "customer", "km")
    login("customer")
    page.goto(f"{live_server.url}/orders/{ref}")
    warning = page.locator("[data-issue-warning]")
    assert warning.is_hidden()
    assert page.locator("#deliver button:not([type=button])").count() == 1  # one clear step
    page.fill("#received_quantity", "85")
    assert warning.is_visible()
    assert page.locator("input[name=condition][value=short]").is_checked()
    page.locator(".phrase-chip", has=page.locator("input[name=phrase_damaged_packaging]")).click()
    page.locator("#deliver").scroll_into_view_if_needed()
    screenshot("order-delivery-warning-km")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    draw_signature(page)
    page.locator("#deliver form button:not([type=button])").click()
    with app.app_context():
        wait_until(app, lambda: db.session.scalar(select(Order.status).where(
            Order.reference == ref)) == "delivered")
