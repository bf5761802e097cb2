"""A Burmese producer on a phone without scripts types a note the Zawgyi detector is unsure of."""
import pytest
from sqlalchemy import select

from secgo.extensions import db
from secgo.models import StatusUpdate
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_order_flow import set_locale
from tests.factories import PASSWORD
from tests.test_orders import make_order
from tests.test_text import UNSURE_ZAWGYI

pytestmark = pytest.mark.once


UNSURE, UNSURE_UNICODE = UNSURE_ZAWGYI


@pytest.fixture
def plain_page(browser):
    """A 360 x 740 phone with JavaScript off: forms go as plain POSTs, the case that is asked."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1,
                                  has_touch=True, is_mobile=True, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
    finally:
        context.close()


def test_a_burmese_producer_is_asked_did_you_mean_and_saves_the_unicode_reading(
        app, world, live_server, plain_page):
    page = plain_page
    ref = make_order(app, world, product="သရက်သီး (Sein Ta Lone)")
    set_locale(app, "producer", "my")
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=login]", "producer")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button").last.click()
    page.goto(f"{live_server.url}/orders/{ref}")
    page.fill("#note", UNSURE)
    page.locator(".update-form button[value=note]").click()
    prompt = page.locator(".did-you-mean")
    prompt.wait_for()
    assert UNSURE_UNICODE in prompt.inner_text()
    assert page.input_value("#note") == UNSURE
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    prompt.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "zawgyi-prompt-my.png"))
    with app.app_context():
        assert db.session.scalar(select(StatusUpdate)) is None
    page.locator(".update-form button[value=note]").click()
    page.wait_for_selector(".did-you-mean", state="detached")
    with app.app_context():
        update = db.session.scalar(select(StatusUpdate))
        assert (update.note, update.note_original) == (UNSURE_UNICODE, UNSURE)
