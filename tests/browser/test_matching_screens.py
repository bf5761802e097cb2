"""Business matching on a 360 px phone in Khmer and Burmese: a coordinator records a forum and a
match with the plain forms, moves it on, and reads the impact report; nothing is wider than the
screen."""
import pytest

from secgo.extensions import db
from secgo.models import User

pytestmark = pytest.mark.once


NO_LIMITS = {"RATELIMIT_ENABLED": False}


def _no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
@pytest.mark.parametrize("locale", ["km", "my"])
def test_a_coordinator_follows_a_forum_up_on_a_phone(app, world, live_server, page, login, screenshot, locale):
    with app.app_context():
        db.session.get(User, world.users["coordinator"]).locale = locale
        db.session.commit()
    login("coordinator")
    page.goto(f"{live_server.url}/matching/new")
    assert page.locator(f"html[lang={locale}]").count() == 1
    page.fill("#name", "Mekong forum")
    page.fill("#held_on", "2026-06-01")
    page.fill("#place", "Phnom Penh")
    page.check(f"input[name=producers][value='{world.orgs['farm']}']")
    page.check(f"input[name=buyers][value='{world.orgs['buyer']}']")
    page.locator("form button.primary").click()
    page.wait_for_url("**/matching/*", timeout=30000)
    assert _no_horizontal_scroll(page)
    page.select_option("#buyer_org_id", str(world.orgs["buyer"]))
    page.select_option("#producer_org_id", str(world.orgs["farm"]))
    page.fill("#products", "ស្រូវសរីរាង្គ, မန်ကျည်း")
    page.locator("form[action$='/matches'] button").click()
    page.wait_for_selector("a.admin-link[href*='/matching/matches/']", timeout=30000)
    screenshot(f"matching-event-{locale}")
    page.locator("a.admin-link[href*='/matching/matches/']").first.click()
    page.wait_for_selector("#stage", timeout=30000)
    assert _no_horizontal_scroll(page)
    page.select_option("#stage", "contacted")
    page.locator("form[action$='/stage'] button").click()
    page.wait_for_selector(".chip", timeout=30000)
    assert page.locator("ol li").count() == 2  # matched, then contacted
    assert _no_horizontal_scroll(page)
    screenshot(f"matching-match-{locale}")
    page.goto(page.url.split("/matching/")[0] + "/matching")
    page.locator("a.admin-link").first.click()
    page.locator("a.btn.primary[href$='/report']").click()
    page.wait_for_selector("svg.bars", timeout=30000)
    assert page.locator(".stat").count() >= 5
    assert _no_horizontal_scroll(page)
    screenshot(f"matching-report-{locale}")
