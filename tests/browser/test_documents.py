"""Documents in Chromium: a paper chosen offline waits in the outbox as chosen (a PDF is not
a photo to shrink) and is attached once when the signal returns."""
import time

from sqlalchemy import select

from secgo.documents.sample import sample_pdf
from secgo.extensions import db
from secgo.models import Document
from tests.browser import offline_live
from tests.browser.test_offline import (
    ORDER,
    READ_OUTBOX,
    login,
    open_order,
    start,
    wait_first_try,
    wait_until_sent,
)

app_server = offline_live.app_server
phone = offline_live.phone
playwright_driver = offline_live.playwright_driver


def documents(app):
    with app.app_context():
        rows = [(d.doc_type, d.mime, d.pages) for d in db.session.scalars(select(Document))]
        db.session.remove()
        return rows


def test_a_document_chosen_offline_is_attached_once_when_the_signal_returns(
        app, app_server, phone, tmp_path):
    pdf = tmp_path / "form-d.pdf"
    pdf.write_bytes(sample_pdf(["FORM D", "Certificate of origin"], pages=2))
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    context.set_offline(True)
    page.reload()
    page.click("#documents summary")
    page.select_option("#doc_type", "certificate_of_origin")
    page.set_input_files("#document", str(pdf))
    assert page.inner_text("#document-name") == "form-d.pdf"
    page.click("#documents form button.primary")
    pending = page.locator(".outbox-entry.outbox-pending")
    pending.wait_for(timeout=60_000)
    wait_first_try(page)
    (item,) = page.evaluate(READ_OUTBOX)
    assert item["files"] == [{"size": pdf.stat().st_size, "type": "application/pdf"}]
    assert documents(app) == []

    page.reload()  # still offline: it survives a reload
    page.locator(".outbox-entry.outbox-pending").wait_for(timeout=60_000)
    context.set_offline(False)
    wait_until_sent(page, timeout=120)
    time.sleep(1)  # a late second sender (the worker's Background Sync) would show up now
    assert documents(app) == [("certificate_of_origin", "application/pdf", 2)]
    page.goto(f"{app_server.url}/orders/{ORDER}")
    page.reload()  # the same URL: a real load from the server, not a jump within the page
    assert "Certificate of origin (ATIGA Form D)" in page.inner_text("#documents")
