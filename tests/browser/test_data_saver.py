"""The data saver in a real browser: a photo update goes as a small preview, the full photo
waits in the outbox until its sender says "Send full photo now", then replaces the preview."""
import io

from PIL import Image
from sqlalchemy import select

from secgo.extensions import db
from secgo.models import StatusUpdate
from tests.browser import offline_live
from tests.browser.offline_live import wait_js
from tests.browser.test_offline import ORDER, big_photo, login, post_update, start

app_server = offline_live.app_server
phone = offline_live.phone
playwright_driver = offline_live.playwright_driver

HELD = """async () => (await self.SecgoOutbox.allItems())
  .filter((i) => i.hold && !i.now && i.state === 'pending').length"""


def photo_of(app, note):
    with app.app_context():
        update = db.session.scalar(select(StatusUpdate).where(StatusUpdate.note == note))
        photo = update.photos[0] if update and update.photos else None
        result = None if photo is None else (photo.id, photo.preview, photo.size, photo.width)
        db.session.remove()
        return result


def wait_photo(app, note, preview, timeout=60):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = photo_of(app, note)
        if found and found[1] == preview:
            return found
        time.sleep(0.3)
    raise AssertionError(f"no photo with preview={preview}: {photo_of(app, note)}")


def test_with_the_saver_on_a_photo_goes_small_first_and_the_full_one_when_asked(
        app, app_server, phone, tmp_path):
    context, page = start(phone)
    login(page, app_server)
    page.goto(app_server.url + "/settings")
    page.check("#saver input[name=data_saver]")
    page.click("#saver button")
    page.wait_for_load_state()
    assert page.evaluate("'saver' in document.body.dataset")
    page.goto(f"{app_server.url}/orders/{ORDER}")
    note = "saver: truck at the border"
    post_update(page, note, big_photo(tmp_path))
    photo_id, preview, size, width = wait_photo(app, note, preview=True)
    assert size <= 60 * 1024 and width <= 1280
    # The full photo stays on the phone, shown as waiting for Wi-Fi, through replays and reloads.
    wait_js(page, f"({HELD})().then((n) => n === 1)")
    page.goto(f"{app_server.url}/offline")
    wait_js(page, "document.querySelector('#outbox-list') && "
                  "document.querySelector('#outbox-list').textContent.includes('waiting for Wi-Fi')")
    page.goto(f"{app_server.url}/orders/{ORDER}")
    page.wait_for_timeout(1500)
    assert photo_of(app, note)[1] is True and page.evaluate(HELD) == 1
    assert "the full photo follows" in page.inner_text(f"[data-preview='{photo_id}']")
    button = page.locator(f"[data-preview='{photo_id}'] [data-send-full]")
    wait_js(page, f"!document.querySelector(\"[data-preview='{photo_id}'] [data-send-full]\").hidden")
    button.click()
    _id, preview, full_size, full_width = wait_photo(app, note, preview=False)
    assert full_width == 1600 and full_size > size
    wait_js(page, f"({HELD})().then((n) => n === 0)")
    served = page.request.get(f"{app_server.url}/attachments/{photo_id}")
    assert Image.open(io.BytesIO(served.body())).width == 1600
    context.close()
