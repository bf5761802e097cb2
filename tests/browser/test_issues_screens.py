"""Issue list, issue page and coordinator dashboard on a 360 px phone, in Khmer and Thai."""
import pytest

from secgo.extensions import db
from secgo.models import Issue
from tests.issue_factories import build_fixture, person

pytestmark = pytest.mark.once


NO_LIMITS = {"RATELIMIT_ENABLED": False}


def _world_in(app, world, locale):
    with app.app_context():
        build_fixture(world)
        for name in ("coordinator", "customer", "producer"):
            person(name).locale = locale
        issue = db.session.get(Issue, world.issue)
        issue.title = "ស្រូវខ្វះ ១០ បាវ នៅព្រំដែនប៉ោយប៉ែត" if locale == "km" else "ข้าวขาด 10 กระสอบที่ด่านปอยเปต"
        db.session.commit()


def _no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
@pytest.mark.parametrize("locale", ["km", "th"])
def test_issue_screens_fit_a_phone_in_a_non_latin_language(app, world, live_server, page, login, screenshot, locale):
    _world_in(app, world, locale)
    login("coordinator")
    page.goto(f"{live_server.url}/coordinator?from=2026-03-01&to=2026-03-31")
    assert page.locator(f"html[lang={locale}]").count() == 1
    assert page.locator("svg.bars").count() == 3
    assert _no_horizontal_scroll(page)
    screenshot(f"issues-dashboard-{locale}")
    page.goto(f"{live_server.url}/issues?tab=all")
    assert page.locator(".issue-item").count() >= 4
    assert _no_horizontal_scroll(page)
    screenshot(f"issues-list-{locale}")
    page.goto(f"{live_server.url}/issues/{world.issue}")
    assert page.locator("form.action-form").count() == 4
    assert _no_horizontal_scroll(page)
    screenshot(f"issues-detail-{locale}")
    # A coordinator acknowledges from the page; the history shows it.
    page.locator("form.action-form button").first.click()
    for _ in range(20):  # the outbox (page or service worker) sends it; the history then shows it
        page.wait_for_timeout(500)
        page.goto(f"{live_server.url}/issues/{world.issue}")
        if page.locator(".thread .event").count() == 2:
            break
    assert page.locator(".thread .event").count() == 2
    assert page.locator(".chip.state-acknowledged").count() >= 1
