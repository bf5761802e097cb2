"""The tab bar on a 360 px phone: every tab of every role is on screen or one tap away under
"More", in the longest languages (Burmese, Khmer), with tap targets of at least 44 px."""
import pytest

from secgo.extensions import db
from secgo.models import User

pytestmark = pytest.mark.once


NO_LIMITS = {"RATELIMIT_ENABLED": False}


def _set_locale(app, world, name, locale):
    with app.app_context():
        db.session.get(User, world.users[name]).locale = locale
        db.session.commit()


def _inside(page, locator):
    box = locator.bounding_box()
    assert box is not None
    width = page.viewport_size["width"]
    return box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5 and box["height"] >= 44


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
@pytest.mark.parametrize("locale", ["my", "km", "en"])
def test_every_coordinator_tab_is_reachable_at_360_px(app, world, live_server, page, login, screenshot, locale):
    _set_locale(app, world, "coordinator", locale)
    login("coordinator")
    page.goto(f"{live_server.url}/orders")
    assert page.locator(f"html[lang={locale}]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    bar = page.locator("nav.tabs > a")
    assert bar.count() == 3  # Dashboard, Orders, Issues
    for i in range(bar.count()):
        assert _inside(page, bar.nth(i)), bar.nth(i).inner_text()
    more = page.locator("nav.tabs .tab-more > summary")
    assert _inside(page, more)
    menu = page.locator("nav.tabs .tab-menu a")
    assert not menu.first.is_visible()
    more.click()
    assert menu.count() >= 2  # People, Settings (and Admin once it exists)
    for i in range(menu.count()):
        assert menu.nth(i).is_visible() and _inside(page, menu.nth(i)), menu.nth(i).inner_text()
    screenshot(f"tab-bar-more-{locale}")
    menu.last.click()  # Settings
    page.wait_for_load_state()
    assert "/settings" in page.url
    assert page.locator("nav.tabs .tab-more.current").count() == 1  # "More" shows where one is


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
def test_a_producer_sees_all_three_tabs_in_burmese_without_a_menu(app, world, live_server, page, login):
    _set_locale(app, world, "producer", "my")
    login("producer")
    page.goto(f"{live_server.url}/orders")
    bar = page.locator("nav.tabs > a")
    assert bar.count() == 3 and page.locator("nav.tabs .tab-more").count() == 0
    for i in range(3):
        assert _inside(page, bar.nth(i)), bar.nth(i).inner_text()
