"""Screenshots of the other order pages at 360 px (new order, awaiting list, tracking link)."""
import re

import pytest

from tests.browser.test_handover import draw_signature
from tests.browser.test_order_flow import set_locale
from tests.test_orders import make_order

pytestmark = pytest.mark.once



@pytest.mark.parametrize("locale", ["th"])
def test_new_order_awaiting_and_tracking_pages_fit_a_phone(
        app, world, live_server, page, login, screenshot, locale):
    ref = make_order(app, world, product="ผักอินทรีย์รวม")
    set_locale(app, "customer", locale)
    login("customer")
    page.goto(f"{live_server.url}/orders/new")
    screenshot(f"order-new-{locale}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(f"{live_server.url}/orders/awaiting")
    screenshot(f"orders-awaiting-{locale}")
    page.goto(f"{live_server.url}/orders/{ref}/links")
    screenshot(f"tracking-links-{locale}")
    page.fill("#contact_name", "คุณสมชาย คลังสินค้า")
    page.locator("form[action$=\"/links\"] button").click()
    page.wait_for_selector(".qr svg")
    screenshot(f"tracking-link-qr-{locale}")
    url = page.input_value("input.copy")
    assert re.search(r"/t/[\w.-]{20,}$", url)
    page.context.clear_cookies()
    page.goto(url)
    page.click("#deliver summary")
    screenshot(f"tracking-page-{locale}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.fill("#received_quantity", "90")
    # Less than ordered: the page says an issue will open before it is sent.
    page.locator("[data-issue-warning]").wait_for()
    draw_signature(page)
    screenshot(f"tracking-page-issue-warning-{locale}")
    page.click("#deliver form button:not([type=button])")
    page.wait_for_selector(".tl-delivery", timeout=60000)
    screenshot(f"tracking-page-after-receipt-{locale}")
