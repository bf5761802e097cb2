"""An answer to an enquiry written with no signal waits in the outbox and arrives once."""
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import EnquiryMessage, Organization, User
from secgo.profiles.services import create_enquiry
from tests.browser import offline_live
from tests.browser.offline_live import wait_js
from tests.factories import PASSWORD

app_server = offline_live.app_server
phone = offline_live.phone
playwright_driver = offline_live.playwright_driver

READ_OUTBOX = """() => new Promise((resolve) => {
  const open = indexedDB.open('secgo-outbox', 1);
  open.onsuccess = () => {
    const all = open.result.transaction('items').objectStore('items').getAll();
    all.onsuccess = () => { resolve(all.result.length); open.result.close(); };
  };
})"""


def test_an_answer_written_offline_is_sent_once_when_the_signal_returns(app, world, app_server, phone):
    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.username == "customer"))
        enquiry = create_enquiry(buyer, db.session.get(Organization, world.orgs["farm"]),
                                 {"body": "25 t in March?", "product": "rice"})
        db.session.commit()
        enquiry_id = enquiry.id
    context = phone(service_workers="block")
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(app_server.url + "/login")
    page.fill("input[name=login]", "producer")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button.primary")
    page.wait_for_load_state()
    page.goto(f"{app_server.url}/enquiries/{enquiry_id}")
    context.set_offline(True)
    page.fill("textarea[name=body]", "Yes, from the new harvest.")
    page.click("form[data-outbox] button.primary")
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_js(page, "!document.querySelector('form[data-outbox][aria-busy]')")
    context.set_offline(False)
    wait_js(page, f"({READ_OUTBOX})().then((n) => n === 0)", timeout=90)
    with app.app_context():
        sent = db.session.scalar(select(func.count()).select_from(EnquiryMessage).where(
            EnquiryMessage.body == "Yes, from the new harvest."))
    assert sent == 1
