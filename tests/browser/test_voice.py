"""Voice notes in Chromium with its fake microphone: held to record while offline, the note
waits in the outbox and arrives exactly once when the signal is back, then plays in the
timeline."""
import time

import pytest
from sqlalchemy import select

from secgo.extensions import db
from secgo.models import StatusUpdate
from tests.browser import offline_live
from tests.browser.offline_live import ARGS, CHROMIUM, wait_js
from tests.browser.test_offline import (READ_OUTBOX, login, open_order, wait_first_try,
                                        wait_until_sent)

app_server = offline_live.app_server
playwright_driver = offline_live.playwright_driver

# Chromium's own test microphone (a beep), granted without asking: only for this test.
FAKE_MICROPHONE = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
NOTE = "ສຽງຈາກດ່ານ"  # "a voice from the border post"


@pytest.fixture
def phone_with_microphone(playwright_driver, tmp_path):
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
        args=ARGS + FAKE_MICROPHONE, viewport={"width": 360, "height": 740},
        device_scale_factor=1,
    )
    context.set_default_timeout(30000)
    yield context
    context.close()


def notes_with(app, note):
    with app.app_context():
        rows = db.session.scalars(select(StatusUpdate).where(StatusUpdate.note == note)).all()
        result = [(u.id, u.voice.mime if u.voice else None,
                   u.voice.duration_ms if u.voice else None) for u in rows]
        db.session.remove()
        return result


def test_a_voice_note_held_to_record_offline_arrives_once_and_plays_in_the_timeline(
        app, app_server, phone_with_microphone):
    context = phone_with_microphone
    page = context.pages[0] if context.pages else context.new_page()
    login(page, app_server)
    open_order(page, app_server)
    record = page.locator(".update-form .voice-record")
    record.wait_for()
    assert page.locator(".update-form input[name=voice]").is_hidden()  # the button replaces it
    assert "Hold to record" in record.inner_text()

    context.set_offline(True)
    page.fill(".update-form textarea[name=note]", NOTE)
    record.hover()
    page.mouse.down()
    wait_js(page, "document.querySelector('.update-form .voice-record').classList.contains('recording')")
    time.sleep(2.5)
    page.mouse.up()
    wait_js(page, "document.querySelector('.update-form input[name=voice]').files.length === 1")
    assert page.locator(".update-form .voice-preview audio").is_visible()
    page.locator(".update-form .status-buttons button").first.click()
    pending = page.locator(".outbox-entry.outbox-pending")
    pending.wait_for()
    wait_first_try(page)
    assert "voice note" in pending.inner_text()
    (item,) = page.evaluate(READ_OUTBOX)
    (voice,) = item["files"]
    assert voice["type"].startswith("audio/") and 0 < voice["size"] < 60_000
    assert notes_with(app, NOTE) == []

    context.set_offline(False)
    wait_until_sent(page)
    time.sleep(1)  # a late second sender (the worker's Background Sync) would show up now
    ((_, mime, duration_ms),) = notes_with(app, NOTE)
    assert mime == "audio/mp4" and 1500 <= duration_ms <= 4000
    page.reload()
    audio = page.locator(".timeline .voice-note audio").first
    audio.wait_for()
    assert page.evaluate("""(async () => {
      const a = document.querySelector('.timeline .voice-note audio');
      const r = await fetch(a.src, { headers: { Range: 'bytes=0-15' } });
      return r.status === 206 && r.headers.get('Content-Type') === 'audio/mp4';
    })()""")


COUNT_MICROPHONE_ASKS = """
  window.microphoneAsks = 0;
  const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => { window.microphoneAsks += 1; return ask(c); };
"""


def test_the_microphone_is_asked_for_only_on_a_tap_and_a_keyboard_starts_and_stops_it(
        app, app_server, phone_with_microphone):
    context = phone_with_microphone
    context.add_init_script(COUNT_MICROPHONE_ASKS)
    page = context.pages[0] if context.pages else context.new_page()
    login(page, app_server)
    page.goto(f"{app_server.url}/orders/SEC-WRLD01")
    record = page.locator(".update-form .voice-record")
    record.wait_for()
    assert page.evaluate("window.microphoneAsks") == 0
    record.focus()
    page.keyboard.press("Enter")  # a tap (or Enter) starts it and it keeps recording
    wait_js(page, "document.querySelector('.update-form .voice-record').classList.contains('recording')")
    assert record.get_attribute("aria-pressed") == "true" and page.evaluate("window.microphoneAsks") == 1
    time.sleep(1.5)
    assert "recording" in record.get_attribute("class")
    page.keyboard.press("Enter")  # and the next one stops it
    wait_js(page, "document.querySelector('.update-form input[name=voice]').files.length === 1")
    assert record.get_attribute("aria-pressed") == "false"
    page.locator(".update-form .voice-preview button").click()  # "Delete recording"
    assert page.evaluate("document.querySelector('.update-form input[name=voice]').files.length") == 0
    assert page.locator(".update-form .voice-preview").is_hidden()
