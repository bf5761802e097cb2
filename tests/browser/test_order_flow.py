"""In Chromium at phone size: a producer posts an update with a photo, the customer confirms it."""
import time

import pytest
from sqlalchemy import select

from secgo.extensions import db
from secgo.models import StatusUpdate, User
from tests.test_orders import make_order
from tests.test_photos import jpeg_with_gps


def wait_until(app, check, timeout=30.0):
    """Poll the database until check() is true (writes go through the page's outbox)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            if check():
                return
        time.sleep(0.2)
    raise AssertionError("the write never reached the server")


def reopen(page, url):
    """Open url, even if the outbox is reloading the page after its answer at that moment
    (it may do so more than once: the page and the service worker's sync both answer)."""
    for _attempt in range(10):
        try:
            page.goto(url)
            return
        except Exception as err:  # noqa: BLE001 - "interrupted by another navigation", or
            # net::ERR_ABORTED when the page's own reload cancels this navigation
            if "interrupted" not in str(err) and "ERR_ABORTED" not in str(err):
                raise
            page.wait_for_load_state()
            page.wait_for_timeout(300)
    page.goto(url)


def set_locale(app, username, locale):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).locale = locale
        db.session.commit()


@pytest.mark.parametrize("locale", ["th", "km"])
def test_producer_posts_a_photo_update_and_customer_confirms_it(
        app, world, live_server, page, login, screenshot, locale):
    ref = make_order(app, world, product="ข้าวหอมมะลิ អង្ករសរីរាង្គ Organic jasmine rice")
    set_locale(app, "customer", locale)
    set_locale(app, "producer", locale)

    login("producer")
    page.goto(f"{live_server.url}/orders")
    screenshot(f"orders-list-producer-{locale}")
    page.click(f"text={ref}")
    page.wait_for_url(f"**/orders/{ref}")
    page.set_input_files("#photos", files=[
        {"name": "truck.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps((1200, 900))}])
    page.fill("#note", "รถออกจากตาแก้วแล้ว 06:00")
    screenshot(f"order-producer-form-{locale}")
    page.locator("button[name=status][value=in_production]").click()
    # The outbox (or the service worker's sync) sends it; wait until the server has it.
    wait_until(app, lambda: db.session.scalar(select(StatusUpdate.id)) is not None)
    reopen(page, f"{live_server.url}/orders/{ref}")
    assert page.locator(".tl-update .note").first.inner_text().startswith("รถออก")
    assert page.locator(".thumbs img").count() == 1
    screenshot(f"order-producer-after-{locale}")
    with app.app_context():
        assert db.session.scalar(select(StatusUpdate.status)) == "in_production"

    login("customer")
    page.goto(f"{live_server.url}/orders/{ref}")
    screenshot(f"order-customer-before-confirm-{locale}")
    page.locator(".confirm-comment summary").first.click()
    page.fill("textarea[name=comment]", "ขอบคุณ")
    page.locator(".confirm-form button").first.click()
    page.wait_for_selector(".confirm-done")  # confirmed in place, no reload
    wait_until(app, lambda: db.session.scalar(select(StatusUpdate.confirmed_at)) is not None)
    reopen(page, f"{live_server.url}/orders/{ref}")
    assert page.locator(".tl-confirm").count() == 1
    screenshot(f"order-customer-confirmed-{locale}")
    with app.app_context():
        update = db.session.scalar(select(StatusUpdate))
        assert update.confirmed_at is not None and update.confirm_comment == "ขอบคุณ"
    # Nothing spills sideways at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
