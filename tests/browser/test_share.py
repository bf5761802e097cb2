"""In Chromium at 360 px: Share opens the phone's share sheet with the server's words; without
one it opens to the words, Copy and the chat apps; and the words are there offline."""
import pytest

from tests.browser.test_order_flow import set_locale
from tests.test_orders import make_order
from tests.browser.offline_live import wait_js

pytestmark = pytest.mark.once


SHARE_SHEET = """
window.__shared = [];
Object.defineProperty(navigator, 'share', {value: async (data) => { window.__shared.push(data); }});
"""


def test_share_opens_the_phones_share_sheet_with_the_words_and_the_link(app, world, live_server, page, login):
    ref = make_order(app, world, product="Jasmine rice")
    set_locale(app, "customer", "km")
    login("customer")
    page.add_init_script(SHARE_SHEET)
    page.goto(f"{live_server.url}/orders/{ref}")
    page.click("details.share summary")
    shared = page.evaluate("window.__shared")
    assert len(shared) == 1
    assert shared[0]["url"] == f"{live_server.url}/orders/{ref}"
    assert shared[0]["text"].startswith("ការបញ្ជាទិញ") and ref in shared[0]["text"]
    assert "Jasmine rice" in shared[0]["text"]
    assert page.evaluate("document.querySelector('details.share').open") is False


@pytest.mark.parametrize("offline", [False, True])
def test_without_a_share_sheet_share_offers_copy_and_the_chat_apps(app, world, live_server, page, login,
                                                                     offline):
    ref = make_order(app, world, product="Jasmine rice")
    login("customer")
    page.goto(f"{live_server.url}/orders/{ref}")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    if offline:
        page.context.set_offline(True)
    assert page.evaluate("typeof navigator.share") == "undefined"
    page.click("details.share summary")
    assert page.is_visible("details.share a:has-text('LINE')")
    page.click("details.share [data-copy]")
    wait_js(page, "document.querySelector('[data-share-status]').textContent.length > 0")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"Order {ref} (Jasmine rice, 100 kg): Accepted\n{live_server.url}/orders/{ref}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.context.set_offline(False)
