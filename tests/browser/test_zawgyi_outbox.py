"""A Burmese producer with scripts on: the outbox sends a note the Zawgyi detector is unsure of,
and the answer's "did you mean ...?" is asked on the page, as a plain form would have asked it."""
import time

import pytest
from sqlalchemy import select

from secgo.extensions import db
from secgo.models import Issue, IssueComment, StatusUpdate
from tests.browser import offline_live
from tests.browser.offline_live import wait_js
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_order_flow import set_locale
from tests.test_orders import make_order
from tests.test_text import UNSURE_ZAWGYI

UNSURE, UNSURE_UNICODE = UNSURE_ZAWGYI
app_server = offline_live.app_server  # a server in its own process, a phone that keeps its profile
phone = offline_live.phone
playwright_driver = offline_live.playwright_driver
OUTBOX_STATES = """() => new Promise((resolve) => {
  const open = indexedDB.open('secgo-outbox', 1);
  open.onsuccess = () => {
    const all = open.result.transaction('items').objectStore('items').getAll();
    all.onsuccess = () => { resolve(all.result.map((i) => i.state)); open.result.close(); };
  };
})"""


def updates(app):
    with app.app_context():
        rows = db.session.scalars(select(StatusUpdate).order_by(StatusUpdate.id)).all()
        result = [(u.id, u.note, u.note_original, u.corrects_id) for u in rows]
        db.session.remove()
        return result


def wait_for_rows(app, count_rows, n, timeout=30.0):
    deadline = time.monotonic() + timeout
    while len(rows := count_rows(app)) < n:
        assert time.monotonic() < deadline, rows
        time.sleep(0.2)
    return rows


@pytest.fixture
def burmese_order_page(app, world, live_server, page, login):
    """The producer, in Burmese, on an order page with scripts on."""
    ref = make_order(app, world, product="သရက်သီး (Sein Ta Lone)")
    set_locale(app, "producer", "my")
    login("producer")
    page.goto(f"{live_server.url}/orders/{ref}")
    assert page.evaluate("document.documentElement.lang") == "my"
    return page


def send_unsure_note(page):
    page.fill("#note", UNSURE)
    page.locator(".update-form button[value=note]").click()


def test_a_js_user_is_asked_did_you_mean_and_use_this_posts_a_correction(
        app, burmese_order_page):
    page = burmese_order_page
    send_unsure_note(page)
    # Sent and stored as typed; the page comes back with the question next to the new entry.
    [(first, note, original, _)] = wait_for_rows(app, updates, 1)
    assert (note, original) == (UNSURE, None)
    question = page.locator(f"#u{first} .did-you-mean")
    question.wait_for()
    assert UNSURE_UNICODE in question.inner_text()
    assert question.locator(".did-you-mean-text").get_attribute("lang") == "my"
    use = question.locator("button[data-zawgyi-choice=unicode]")
    assert use.inner_text() == "ဟုတ်ကဲ့၊ ဒါကို သုံးမယ်"  # "Yes, use this", from the catalog
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    question.evaluate("(box) => box.scrollIntoView({ block: 'center' })")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "my-zawgyi-suggestion.png"))  # docs/screenshots/

    use.click()
    rows = wait_for_rows(app, updates, 2)
    assert rows[1][1:] == (UNSURE_UNICODE, UNSURE, first)  # a correction; the typed text kept
    correction = page.locator(f"#u{rows[1][0]}")
    correction.wait_for()
    assert UNSURE_UNICODE in correction.locator(".note").inner_text()
    assert correction.locator(".chip-warn").count() == 1  # "Correction"
    assert page.locator(f"#u{first} .note").inner_text() == UNSURE  # history is never edited
    assert page.locator(".did-you-mean").count() == 0
    assert page.evaluate(OUTBOX_STATES) == []
    correction.evaluate("(entry) => entry.scrollIntoView({ block: 'center' })")
    page.screenshot(path=str(ARTIFACTS / "my-zawgyi-corrected.png"))
    page.reload()
    assert page.locator(".did-you-mean").count() == 0
    assert len(updates(app)) == 2


def test_keep_as_typed_dismisses_the_question_and_writes_nothing(app, burmese_order_page):
    page = burmese_order_page
    send_unsure_note(page)
    [(first, *_)] = wait_for_rows(app, updates, 1)
    order_url = page.url
    page.locator(f"#u{first} .did-you-mean").wait_for()
    # The outbox view lists the question too (not as a report waiting to send), and answers it.
    page.goto(order_url.rsplit("/orders/", 1)[0] + "/offline")
    question = page.locator("#outbox-list .did-you-mean", has_text=UNSURE_UNICODE)
    question.wait_for()
    # The list is drawn again whenever the outbox changes, the questions after it: wait for both.
    wait_js(page, """document.querySelectorAll(
        "#outbox-list .did-you-mean a[href*='/orders/']").length === 1""")
    assert page.locator("#sync-badge").is_hidden()
    question.locator("button[data-zawgyi-choice=typed]").click()
    question.wait_for(state="detached")
    wait_js(page, f"({OUTBOX_STATES})().then((s) => s.length === 0)")
    page.goto(order_url)
    page.locator(f"#u{first}").wait_for()
    assert page.locator(".did-you-mean").count() == 0
    assert updates(app) == [(first, UNSURE, None, None)]
    assert page.locator("#sync-badge").is_hidden()


def test_a_note_queued_offline_asks_when_its_answer_arrives(app, burmese_order_page):
    page = burmese_order_page
    wait_js(page, "navigator.serviceWorker.ready.then(() => true)")
    page.context.set_offline(True)
    send_unsure_note(page)
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_js(page, "!document.querySelector('form[data-outbox][aria-busy]')")
    assert updates(app) == []
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    [(first, *_)] = wait_for_rows(app, updates, 1)
    # The page was not reloaded: the question shows at the top of its timeline.
    question = page.locator(".did-you-mean", has_text=UNSURE_UNICODE)
    question.wait_for()
    assert page.locator("#sync-badge").is_hidden()
    # A double tap: both taps reach the page before the first is answered; one correction.
    page.evaluate("""() => {
      const use = document.querySelector('[data-zawgyi-choice=unicode]');
      use.click();
      use.click();
    }""")
    rows = wait_for_rows(app, updates, 2)
    page.locator(f"#u{rows[1][0]}").wait_for()
    time.sleep(1)
    assert [r[1:] for r in updates(app)] == [(UNSURE, None, None), (UNSURE_UNICODE, UNSURE, first)]


def test_a_message_on_an_issue_is_fixed_by_a_message_in_unicode(app, world, live_server, page, login):
    def comments(app):
        with app.app_context():
            rows = db.session.scalars(select(IssueComment).where(IssueComment.issue_id == world.issue)
                                      .order_by(IssueComment.id)).all()
            result = [(c.id, c.body, c.body_original) for c in rows]
            db.session.remove()
            return result

    before = len(comments(app))  # before sending: the message may be stored before the next line
    set_locale(app, "producer", "my")
    login("producer")
    page.goto(f"{live_server.url}/issues/{world.issue}")
    form = page.locator("form[data-outbox]:has(textarea[name=body])")
    form.locator("textarea[name=body]").fill(UNSURE)
    form.locator("button:not([type=button])").click()
    first = wait_for_rows(app, comments, before + 1)[-1]
    assert first[1:] == (UNSURE, None)
    question = page.locator(f"#c{first[0]} .did-you-mean")
    question.wait_for()
    question.locator("button[data-zawgyi-choice=unicode]").click()
    fixed = wait_for_rows(app, comments, before + 2)[-1]
    assert fixed[1:] == (UNSURE_UNICODE, UNSURE)
    page.locator(f"#c{fixed[0]}").wait_for()
    assert page.locator(".did-you-mean").count() == 0


def test_an_issue_title_cannot_be_corrected_so_use_this_adds_it_as_a_message(
        app, burmese_order_page):
    page = burmese_order_page
    page.goto(page.url + "/issues/new")
    page.fill("input[name=title]", UNSURE)
    page.locator("main form button.primary").click()
    page.wait_for_url("**/issues/*")
    question = page.locator(".did-you-mean", has_text=UNSURE_UNICODE)
    question.wait_for()
    assert "ဖြစ်နိုင်ပါတယ်" in question.inner_text()  # "This text may be in Zawgyi ..." in Burmese
    with app.app_context():
        issue = db.session.scalar(select(Issue).where(Issue.title == UNSURE))
        issue_id = issue.id
        db.session.remove()
    question.locator("button[data-zawgyi-choice=unicode]").click()

    def comments(app):
        with app.app_context():
            rows = db.session.scalars(select(IssueComment).where(IssueComment.issue_id == issue_id)).all()
            result = [(c.id, c.body, c.body_original) for c in rows]
            db.session.remove()
            return result

    [(comment, body, original)] = wait_for_rows(app, comments, 1)
    assert (body, original) == (UNSURE_UNICODE, UNSURE)
    page.locator(f"#c{comment}").wait_for()
    assert page.locator(".did-you-mean").count() == 0


def test_a_note_the_service_worker_sends_with_no_page_open_asks_on_the_next_visit(
        app, app_server, phone):
    from tests.browser import test_offline as offline

    set_locale(app, "producer", "my")
    context, page = offline.start(phone)
    offline.login(page, app_server)
    offline.open_order(page, app_server)
    context.set_offline(True)
    page.reload()
    send_unsure_note(page)
    page.locator(".outbox-entry.outbox-pending").wait_for()
    offline.wait_first_try(page)
    blank = context.new_page()  # about:blank runs none of the app's code
    page.close()
    cdp = context.new_cdp_session(blank)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 30
    while not registrations and time.monotonic() < deadline:
        blank.wait_for_timeout(100)
    context.set_offline(False)
    cdp.send("ServiceWorker.dispatchSyncEvent", {
        "origin": app_server.url, "registrationId": registrations[0]["registrationId"],
        "tag": "secgo-outbox", "lastChance": False,
    })
    [(first, *_)] = wait_for_rows(app, updates, 1)
    page = context.new_page()
    page.goto(f"{app_server.url}/orders/{offline.ORDER}")
    question = page.locator(f"#u{first} .did-you-mean", has_text=UNSURE_UNICODE)
    question.wait_for()
    question.locator("button[data-zawgyi-choice=unicode]").click()
    rows = wait_for_rows(app, updates, 2)
    assert rows[1][1:] == (UNSURE_UNICODE, UNSURE, first)

