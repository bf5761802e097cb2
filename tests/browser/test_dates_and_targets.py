"""In Chromium at 360 px: times the page draws match the server's, and every target is tappable."""
import json
from datetime import datetime

import pytest
from flask_babel import force_locale

from secgo import i18n
from secgo.extensions import db
from secgo.models import Issue, User
from tests.browser.offline_live import wait_js
from tests.factories import PASSWORD

pytestmark = pytest.mark.once


ORDER = "SEC-WRLD01"


def _set_person(app, world, name, locale, tz):
    with app.app_context():
        user = db.session.get(User, world.users[name])
        user.locale, user.timezone = locale, tz
        db.session.commit()
        db.session.remove()


def _server_moment(app, iso, locale, tz):
    """How the server writes this moment for a reader of `locale` in `tz` (the timeline's form)."""
    with app.test_request_context("/"):
        i18n.locale.use_page_language(locale, tz)
        with force_locale(locale):
            return i18n.format_when(datetime.fromisoformat(iso.replace("Z", "+00:00")), "short")


@pytest.mark.parametrize("locale, tz", [("km", "Asia/Phnom_Penh"), ("my", "Asia/Yangon")])
def test_a_queued_report_shows_its_time_as_the_server_writes_it(
        app, world, live_server, page, login, locale, tz):
    _set_person(app, world, "producer", locale, tz)
    login("producer")
    page.goto(f"{live_server.url}/orders/{ORDER}")
    assert page.get_attribute("html", "data-tz") == tz
    # Whether this Chromium has its own data for the language: the page must not depend on it.
    page.evaluate("(l) => Intl.DateTimeFormat.supportedLocalesOf([l])", locale)
    page.context.set_offline(True)
    page.fill(".update-form textarea[name=note]", "queued while offline")
    page.locator(".update-form .status-buttons button").first.click()
    time = page.locator(".outbox-entry time").first
    time.wait_for()
    wait_js(page, "document.querySelector('.outbox-entry time').textContent.length > 0")
    # After the catalog has loaded (it carries the patterns), the text is the server's.
    expected = _server_moment(app, time.get_attribute("datetime"), locale, tz)
    wait_js(page, f"document.querySelector('.outbox-entry time').textContent === {json.dumps(expected)}",
            timeout=15)
    shown = time.inner_text()
    assert "AM" not in shown and "PM" not in shown
    page.context.set_offline(False)


def test_without_its_catalog_the_page_still_writes_the_time_in_the_readers_zone(
        app, world, live_server, browser):
    _set_person(app, world, "producer", "en", "Asia/Yangon")
    # No service worker (it would fetch the catalog where the route below cannot see it).
    context = browser.new_context(viewport={"width": 360, "height": 740}, service_workers="block")
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=login]", "producer")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button").last.click()
    page.wait_for_load_state()
    page.route("**/i18n/*.json", lambda route: route.abort())
    page.goto(f"{live_server.url}/orders/{ORDER}")
    page.context.set_offline(True)
    page.fill(".update-form textarea[name=note]", "no catalog")
    page.locator(".update-form .status-buttons button").first.click()
    time = page.locator(".outbox-entry time").first
    time.wait_for()
    iso = time.get_attribute("datetime")
    expected = page.evaluate(
        """(iso) => new Intl.DateTimeFormat('en', {timeZone: 'Asia/Yangon', dateStyle: 'medium',
             timeStyle: 'short'}).format(new Date(iso))""", iso)
    assert time.inner_text() == expected
    context.close()


# --- tap targets --------------------------------------------------------------------------

# Every link, button, field and summary that is shown: its box, and whether it is a link in
# the middle of a sentence (WCAG 2.5.8's inline exception).
TARGETS = """() => {
  const nodes = [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary')];
  return nodes.map((n) => {
    const r = n.getBoundingClientRect();
    const style = getComputedStyle(n);
    const visible = r.width > 0 && r.height > 0 && style.visibility !== 'hidden'
      && !n.closest('[hidden], .visually-hidden, .skip, details:not([open]) > :not(summary)');
    const parent = n.parentElement;
    const inline = n.tagName === 'A' && style.display === 'inline'
      && parent && ['P', 'SPAN', 'SMALL', 'DD', 'LI'].includes(parent.tagName)
      && parent.textContent.trim().length > n.textContent.trim().length + 2;
    return { tag: n.tagName, text: (n.textContent || n.name || n.id || '').trim().slice(0, 40),
             x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height, visible, inline,
             checkbox: ['checkbox', 'radio'].includes(n.type) };
  }).filter((t) => t.visible);
}"""

MIN = 44  # WCAG 2.5.5 (AAA) size, which we aim for
SPACED = 24  # WCAG 2.5.8 (AA): smaller targets need this much room to the next one


def _too_small(targets):
    """Targets under 44 px tall without room around them, and any under 24 px (not inline)."""
    bad = []
    for t in targets:
        if t["inline"] or t["h"] >= MIN:
            continue
        if t["checkbox"]:  # the label around it is the target (checked by its own height)
            continue
        if t["h"] < SPACED or t["w"] < SPACED:
            bad.append(t)
            continue
        # Room: a 44 px tall band through its middle touches no other target.
        top, bottom = t["y"] + t["h"] / 2 - MIN / 2, t["y"] + t["h"] / 2 + MIN / 2
        for o in targets:
            if o is t or o["inline"]:
                continue
            if o["x"] < t["x"] + t["w"] and t["x"] < o["x"] + o["w"] and o["y"] < bottom and top < o["y"] + o["h"]:
                bad.append(t)
                break
    return bad


PAGES = {
    "producer": ["/orders", f"/orders/{ORDER}", "/orders/new", "/issues", "/settings",
                 f"/orders/{ORDER}/links"],
    "customer": ["/orders", f"/orders/{ORDER}", "/orders/awaiting", "/issues"],
    "coordinator": ["/coordinator", "/onboarding/", "/onboarding/people/new"],
}


@pytest.mark.parametrize("who", sorted(PAGES))
def test_every_target_on_the_main_pages_is_big_enough_to_tap_at_360px(
        app, world, live_server, page, login, who):
    with app.app_context():
        issue = db.session.get(Issue, world.issue).id
    login(who)
    paths = PAGES[who] + [f"/issues/{issue}"]
    problems = []
    for path in paths:
        response = page.goto(live_server.url + path)
        if response.status != 200:
            continue
        for t in _too_small(page.evaluate(TARGETS)):
            problems.append(f"{path}: {t['tag']} '{t['text']}' {t['w']:.0f}x{t['h']:.0f}")
    assert not problems, "\n".join(problems)
