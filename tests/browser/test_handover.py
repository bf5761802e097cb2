"""Proof at handover in Chromium at 360 px: a warehouse clerk with a tracking link and no signal
signs on the screen; the report waits on the phone, survives a browser restart with no session
and lands once when the signal returns."""
import time

from sqlalchemy import select

from secgo.extensions import db
from secgo.models import DeliveryConfirmation, Order, User
from secgo.orders import services
from tests.browser import offline_live
from tests.browser.offline_live import wait_for_worker, wait_js
from tests.browser.test_offline import READ_OUTBOX, start, wait_first_try

app_server = offline_live.app_server
phone = offline_live.phone
playwright_driver = offline_live.playwright_driver

ORDER = "SEC-WRLD01"


def tracking_link(app, reference=ORDER, contact="Somchai (warehouse)") -> str:
    """A tracking link made by the order's producer; returns its secret token."""
    with app.test_request_context():
        order = db.session.scalar(select(Order).where(Order.reference == reference))
        producer = db.session.scalar(select(User).where(User.username == "producer"))
        _link, token = services.create_tracking_link(producer, order, {"contact_name": contact})
        db.session.commit()
        return token


def wait_for_pad(page):
    """Until signature.js (imported when the page has a pad) has set the form up."""
    wait_js(page, "document.querySelector('[data-signature-live]')?.hidden === false")


def draw_signature(page, scope="#deliver"):
    """Sign in the pad with the mouse (a finger's pointer events are the same to the pad)."""
    canvas = page.locator(f"{scope} canvas.signature-pad")
    canvas.scroll_into_view_if_needed()
    wait_js(page, f"document.querySelector('{scope} canvas.signature-pad').width > 100")
    box = canvas.bounding_box()
    x, y = box["x"], box["y"] + box["height"] / 2
    page.mouse.move(x + 20, y)
    page.mouse.down()
    for step in range(1, 30):
        page.mouse.move(x + 20 + step * 9, y + (12 if step % 2 else -12), steps=2)
    page.mouse.up()
    wait_js(page, f"document.querySelector('{scope} input[name=signature]').files.length === 1")


def deliveries(app):
    with app.app_context():
        rows = db.session.scalars(select(DeliveryConfirmation)).all()
        result = [(d.receiver_name, d.proof, d.signature_id is not None) for d in rows]
        db.session.remove()
        return result


def test_a_clerk_signs_offline_and_the_receipt_lands_once_after_a_restart(app, app_server, phone):
    token = tracking_link(app)
    context, page = start(phone)
    page.goto(f"{app_server.url}/t/{token}")
    wait_for_worker(page)
    page.reload()  # through the worker, which keeps a copy under the link's own URL
    wait_js(page, f"caches.open('secgo-link-pages').then((c) => c.match('/t/{token}')).then(Boolean)")
    context.set_offline(True)  # in the warehouse: no signal, and the page opened again
    page.reload()
    assert "saved copy" in page.inner_text("#offline-banner")
    if page.locator("#deliver details:not([open])").count():
        page.click("#deliver summary")
    wait_for_pad(page)
    assert page.locator("input[name=proof][value=signature]").is_checked()
    assert page.locator("#handover_code").is_hidden()  # only the chosen proof shows
    page.fill("#receiver_name", "Somchai Jaidee")
    draw_signature(page)
    page.click("#deliver form button:not([type=button])")
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
    (item,) = page.evaluate(READ_OUTBOX)
    assert item["state"] == "pending"
    assert [f["type"] for f in item["files"]] == ["image/png"]  # kept as drawn, not a JPEG
    assert deliveries(app) == []

    # The phone restarts with no signal; the session cookie (and any CSRF token) is gone.
    # (The service worker's Background Sync may send it as soon as the phone is back up.)
    context.close()
    context, page = start(phone)
    context.clear_cookies()
    page.goto(f"{app_server.url}/login")  # any page of the app sends a link's reports
    wait_js(page, f"({READ_OUTBOX})().then((items) => items.length === 0)", timeout=90)
    time.sleep(1)  # a late second sender (the worker's Background Sync) would show up now
    assert deliveries(app) == [("Somchai Jaidee", "signature", True)]
    page.goto(f"{app_server.url}/t/{token}")
    assert "Delivery confirmed by Somchai Jaidee, signed" in page.inner_text(".tl-delivery")
    # Another link of the same order, on the same phone: nothing of the first link's copy.
    other = tracking_link(app, contact="Another clerk")
    context.set_offline(True)
    page.goto(f"{app_server.url}/t/{other}")
    assert "Somchai" not in page.inner_text("body")
    context.set_offline(False)
    page.goto(f"{app_server.url}/t/{token}")
    assert page.locator(".tl-delivery img.signature-img").evaluate("(i) => i.naturalWidth") > 100


def test_a_wrong_code_is_said_in_the_form_and_the_right_one_confirms(app, app_server, phone):
    token = tracking_link(app)
    with app.test_request_context():
        from secgo.orders.handover import code_for

        code = code_for(db.session.scalar(select(Order).where(Order.reference == ORDER)))
    context, page = start(phone)
    page.goto(f"{app_server.url}/t/{token}")
    if page.locator("#deliver details:not([open])").count():
        page.click("#deliver summary")
    wait_for_pad(page)
    # Signed, but the name left out: refused in the form, the signature shown again.
    page.fill("#receiver_name", "")
    draw_signature(page)
    page.click("#deliver form button:not([type=button])")
    page.locator("#deliver .outbox-error").first.wait_for()
    assert "name of the person who received" in page.inner_text("#deliver form")
    wait_js(page, "document.querySelector('#deliver .signature').classList.contains('is-signed')")
    assert page.evaluate("document.querySelector('#deliver input[name=signature]').files.length") == 1
    page.check("input[name=proof][value=code]")
    assert page.locator("canvas.signature-pad").is_hidden()
    page.fill("#receiver_name", "Nok")
    page.fill("#handover_code", "000000" if code != "000000" else "111111")
    page.click("#deliver form button:not([type=button])")
    wait_js(page, "document.querySelector('#deliver form').innerText.includes('not the handover code')")
    assert deliveries(app) == []
    page.fill("#handover_code", code)
    page.click("#deliver form button:not([type=button])")
    page.wait_for_selector(".tl-delivery", timeout=60000)
    assert "with the handover code" in page.inner_text(".tl-delivery")
    assert deliveries(app) == [("Nok", "code", False)]


def test_a_problem_reported_offline_through_a_link_arrives_once(app, app_server, phone):
    from secgo.models import Issue

    token = tracking_link(app)
    context, page = start(phone)
    page.goto(f"{app_server.url}/t/{token}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    context.set_offline(True)
    page.click("#problem summary")
    page.select_option("#category", "quality")
    page.fill("#title", "Six bags wet")
    page.click("#problem form button:not([type=button])")
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
    context.set_offline(False)
    wait_js(page, f"({READ_OUTBOX})().then((items) => items.length === 0)", timeout=90)
    time.sleep(1)
    with app.app_context():
        titles = db.session.scalars(select(Issue.title).where(Issue.title == "Six bags wet")).all()
        db.session.remove()
    assert titles == ["Six bags wet"]
