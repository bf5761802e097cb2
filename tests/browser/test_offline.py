"""Offline-first, in Chromium: saved pages, the outbox, exactly-once delivery, logout, updates."""
import random
import time

from PIL import Image
from sqlalchemy import select

from secgo.extensions import db
from secgo.models import StatusUpdate, User
from tests.browser import offline_live
from tests.browser.offline_live import wait_for_worker, wait_js
from tests.factories import PASSWORD

app_server = offline_live.app_server
phone = offline_live.phone
playwright_driver = offline_live.playwright_driver

ORDER = "SEC-WRLD01"
LAO_NOTE = "ຮອດດ່ານຊາຍແດນ ລໍຖ້າກວດ"  # "at the border post, waiting for inspection"

READ_OUTBOX = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('secgo-outbox', 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const idb = open.result;
    const all = idb.transaction('items').objectStore('items').getAll();
    all.onsuccess = () => {
      resolve(all.result.map((i) => ({ key: i.key, state: i.state, summary: i.summary,
        error: i.error, files: i.files.map((f) => ({ size: f.blob.size, type: f.blob.type })) })));
      idb.close();
    };
  };
})"""

PHOTO_SIZE = """async () => {
  const open = indexedDB.open('secgo-outbox', 1);
  await new Promise((r) => { open.onsuccess = r; });
  const all = open.result.transaction('items').objectStore('items').getAll();
  await new Promise((r) => { all.onsuccess = r; });
  const bitmap = await createImageBitmap(all.result[0].files[0].blob);
  return [bitmap.width, bitmap.height];
}"""


def start(phone, **options):
    context = phone(**options)
    page = context.pages[0] if context.pages else context.new_page()
    return context, page


def login(page, server, username="producer"):
    page.goto(server.url + "/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button.primary")
    page.wait_for_load_state()
    assert "/login" not in page.url


def open_order(page, server, with_worker=True):
    page.goto(f"{server.url}/orders/{ORDER}")
    if with_worker:
        wait_for_worker(page)
        page.reload()  # now through the worker, which keeps a copy
        wait_js(page,
            "caches.keys().then((k) => k.some((n) => n.startsWith('secgo-pages-u')))"
        )
        wait_js(page, f"""caches.open('secgo-pages-u' + document.body.dataset.user)
            .then((c) => c.match('/orders/{ORDER}')).then(Boolean)""")


def big_photo(tmp_path, name="border.jpg"):
    """An 8-megapixel camera-like JPEG of megabytes."""
    width, height = 3200, 2400
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    image = Image.merge("RGB", (gradient, Image.blend(gradient, noise, 0.5), noise))
    path = tmp_path / name
    image.save(path, "JPEG", quality=95)
    assert path.stat().st_size > 1_000_000
    return path


def post_update(page, note, photo=None):
    page.fill(".update-form textarea[name=note]", note)
    if photo:
        page.set_input_files(".update-form input[name=photos]", str(photo))
    page.locator(".update-form .status-buttons button").first.click()


def updates_with(app, note):
    with app.app_context():
        rows = db.session.scalars(select(StatusUpdate).where(StatusUpdate.note == note)).all()
        result = [(u.id, u.status, [(p.width, p.height) for p in u.photos]) for u in rows]
        db.session.remove()
        return result


def wait_first_try(page):
    """Until every form's first try is over (offline: it failed and the report waits)."""
    wait_js(page, "!document.querySelector('form[data-outbox][aria-busy]')")


def badge_count(page):
    return 0 if page.locator("#sync-badge").is_hidden() else int(page.inner_text("#sync-count"))


def wait_until_sent(page, timeout=90.0):
    wait_js(page, f"({READ_OUTBOX})().then((items) => items.length === 0)", timeout=timeout)
    wait_js(page, "document.getElementById('sync-badge').hidden")


def test_service_worker_installs_activates_and_precaches_the_app_shell(app_server, phone):
    context, page = start(phone)
    page.goto(app_server.url + "/login")
    wait_for_worker(page)
    state = page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.state)")
    assert state == "activated"
    cached = page.evaluate("""caches.keys().then((names) => caches.open(names.find((n) =>
        n.startsWith('secgo-shell-')))).then((c) => c.keys()).then((r) => r.map((x) => x.url))""")
    assert any("/static/js/outbox.js?v=" in url for url in cached)
    assert any(url.endswith("/offline") for url in cached)


def test_a_visited_order_page_reads_offline_with_a_saved_copy_banner(app_server, phone):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    context.set_offline(True)
    page.reload()
    assert ORDER in page.inner_text("h1")
    banner = page.locator("#offline-banner")
    assert banner.is_visible() and "saved copy from" in banner.inner_text()
    page.goto(app_server.url + "/issues")  # never opened: the friendly offline page
    assert page.locator(".offline-note").is_visible()
    assert "You are offline" in page.inner_text("main")


def test_an_update_with_a_photo_made_offline_survives_reload_and_restart_and_arrives_once(
    app, app_server, phone, tmp_path,
):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    context.set_offline(True)
    page.reload()
    post_update(page, LAO_NOTE, big_photo(tmp_path))
    pending = page.locator(".outbox-entry.outbox-pending")
    pending.wait_for()
    wait_first_try(page)
    assert LAO_NOTE in pending.inner_text() and "waiting to send" in pending.inner_text()
    assert badge_count(page) == 1
    (item,) = page.evaluate(READ_OUTBOX)
    assert item["files"][0]["type"] == "image/jpeg" and item["files"][0]["size"] < 300 * 1024
    assert max(page.evaluate(PHOTO_SIZE)) <= 1600

    page.reload()  # still offline
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
    assert badge_count(page) == 1

    app_server.stop()  # no signal at all, and the phone is switched off and on again
    context.close()
    context, page = start(phone)
    context.set_offline(True)
    page.goto(f"{app_server.url}/orders/{ORDER}")
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
    assert badge_count(page) == 1
    assert updates_with(app, LAO_NOTE) == []

    app_server.start()
    context.set_offline(False)
    wait_until_sent(page)
    time.sleep(1)  # a late second sender (the worker's Background Sync) would show up now
    ((_, status, photos),) = updates_with(app, LAO_NOTE)
    assert status != "note" and len(photos) == 1 and max(photos[0]) <= 1600
    assert page.evaluate(READ_OUTBOX) == []
    # The photo went up once: the page's token was of the session before the restart, so the
    # outbox asked for a current one first instead of being refused and sending it all again.
    posts = [line for line in (app_server.tmp / "server.log").read_text().splitlines()
             if f"POST /orders/{ORDER}/updates" in line]
    assert len(posts) == 1 and '" 400 ' not in posts[0], posts
    page.reload()
    assert LAO_NOTE in page.inner_text("main")


def test_the_same_action_replayed_creates_one_record(app, app_server, phone):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server, with_worker=False)
    statuses = page.evaluate(f"""async () => {{
      const token = document.querySelector('input[name=csrf_token]').value;
      const send = () => {{
        const body = new FormData();
        body.append('status', 'note');
        body.append('note', 'sent three times');
        return fetch('/orders/{ORDER}/updates', {{ method: 'POST', body, headers: {{
          Accept: 'application/json', 'X-CSRFToken': token,
          'Idempotency-Key': '5b1f6c1e-8d5e-4a7e-9a51-0c1d2e3f4a5b' }} }});
      }};
      const answers = await Promise.all([send(), send()]);
      answers.push(await send());
      return Promise.all(answers.map(async (r) => [r.status, (await r.json()).location]));
    }}""")
    assert len({tuple(s) for s in statuses}) == 1 and statuses[0][0] == 201
    assert len(updates_with(app, "sent three times")) == 1


def test_an_invalid_update_queued_offline_shows_as_failed_with_the_servers_message(
    app, app_server, phone, tmp_path,
):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    fake = tmp_path / "not-a-photo.jpg"
    fake.write_bytes(b"this is a text file, not a picture")
    context.set_offline(True)
    page.reload()
    post_update(page, "with a broken photo", fake)
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
    context.set_offline(False)
    failed = page.locator(".outbox-entry.outbox-failed")
    failed.wait_for(timeout=60000)
    assert "Only photos (JPEG, PNG or WebP) can be attached." in failed.inner_text()
    assert badge_count(page) == 1  # kept, never dropped silently
    assert updates_with(app, "with a broken photo") == []

    page.goto(app_server.url + "/offline")
    view = page.locator("#outbox-list .outbox-failed")
    assert "Only photos" in view.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    view.locator("[data-outbox-discard]").click()
    page.locator("#outbox-list .outbox-failed").wait_for(state="detached")
    assert "Nothing is waiting." in page.inner_text("#outbox-list")
    assert badge_count(page) == 0


def test_a_server_crash_in_the_middle_of_a_replay_loses_nothing_and_duplicates_nothing(
    app, app_server, phone,
):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    context.set_offline(True)
    page.reload()
    notes = [f"crash test {n} {random.randrange(10**6)}" for n in range(3)]
    for note in notes:
        page.fill(".update-form textarea[name=note]", note)
        page.click(".update-form button[value=note]")
        page.locator(f".outbox-entry:has-text('{note}')").wait_for()
        wait_js(page, "!document.querySelector('.update-form').dataset.outboxBusy")  # no double tap
        wait_first_try(page)
    assert badge_count(page) == 3

    app_server.crash_after_next_write()  # the first write commits, then the server dies
    context.set_offline(False)
    app_server.wait_for_crash()
    assert len(updates_with(app, notes[0])) == 1
    assert badge_count(page) >= 2
    app_server.start()
    wait_until_sent(page, timeout=90.0)
    time.sleep(1)
    ids = [updates_with(app, note) for note in notes]
    assert [len(rows) for rows in ids] == [1, 1, 1]
    assert ids[0][0][0] < ids[1][0][0] < ids[2][0][0]  # in the order they were made


def test_an_expired_session_keeps_the_queue_asks_to_log_in_then_sends(app, app_server, phone):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    context.set_offline(True)
    page.reload()
    page.fill(".update-form textarea[name=note]", "after logging in again")
    page.click(".update-form button[value=note]")
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
    context.clear_cookies()  # the session ended while the phone was away
    context.set_offline(False)
    prompt = page.locator("#outbox-login")
    prompt.wait_for(timeout=60000)
    assert badge_count(page) == 1
    prompt.locator("a").click()
    page.fill("input[name=login]", "producer")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button.primary")
    page.wait_for_url(f"**/orders/{ORDER}")
    wait_until_sent(page)
    assert len(updates_with(app, "after logging in again")) == 1


def test_after_logout_no_page_of_the_previous_user_is_served_from_cache(app_server, phone):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    page.click("form[data-logout] button")
    page.wait_for_url("**/login")
    assert not [n for n in page.evaluate("caches.keys()") if n.startswith("secgo-pages-")]
    login(page, app_server, "customer")  # the buyer of the same order, on the same phone
    page.goto(app_server.url + "/orders")
    context.set_offline(True)
    page.goto(f"{app_server.url}/orders/{ORDER}")
    assert page.evaluate("document.body.dataset.fallback") == "1"
    assert ORDER not in page.inner_text("main")
    page.goto(f"{app_server.url}/orders")
    assert page.evaluate("document.body.dataset.savedAt")
    customer = page.evaluate("document.body.dataset.user")
    assert page.evaluate("caches.keys()").count(f"secgo-pages-u{customer}") == 1
    assert [n for n in page.evaluate("caches.keys()") if n.startswith("secgo-pages-")] == [
        f"secgo-pages-u{customer}"
    ]


def test_a_new_release_waits_then_reloads_when_the_user_says_so(app_server, phone):
    context, page = start(phone)
    login(page, app_server)
    wait_for_worker(page)
    (app_server.tmp / "sw-release").write_text("release 2")
    page.reload()  # a navigation checks for a new worker
    prompt = page.locator("#update-prompt")
    prompt.wait_for(timeout=60000)
    assert "New version" in prompt.inner_text()
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !!r.waiting)")
    with page.expect_navigation():
        prompt.locator("button").click()
    wait_js(page, "navigator.serviceWorker.controller !== null")
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !r.waiting)")
    assert page.locator("#update-prompt").count() == 0


def test_without_a_service_worker_the_outbox_still_sends_when_the_signal_returns(
    app, app_server, phone,
):
    context, page = start(phone, service_workers="block")
    login(page, app_server)
    open_order(page, app_server, with_worker=False)
    context.set_offline(True)
    page.fill(".update-form textarea[name=note]", "no worker here")
    page.click(".update-form button[value=note]")
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
    assert badge_count(page) == 1
    context.set_offline(False)
    wait_until_sent(page)
    assert len(updates_with(app, "no worker here")) == 1


def test_online_a_form_sends_at_once_and_shows_the_new_entry(app, app_server, phone, tmp_path):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    post_update(page, "sent with a signal", big_photo(tmp_path))
    # The page came back with it as a saved entry (not the "waiting to send" one the outbox shows).
    page.locator(".timeline > li:not([data-outbox-key])", has_text="sent with a signal").wait_for()
    assert len(updates_with(app, "sent with a signal")) == 1
    assert badge_count(page) == 0


def test_offline_banner_and_outbox_in_thai_at_phone_size(app, app_server, phone, tmp_path):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "producer"))
        user.locale = "th"
        db.session.commit()
        db.session.remove()
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    fake = tmp_path / "เอกสาร.jpg"
    fake.write_bytes(b"not a picture")
    context.set_offline(True)
    page.reload()
    post_update(page, "ใบขนสินค้า", fake)  # refused by the server once the signal is back
    page.locator(".outbox-entry").wait_for()
    wait_first_try(page)
    context.set_offline(False)
    page.locator(".outbox-entry.outbox-failed").wait_for(timeout=60000)
    context.set_offline(True)
    page.reload()
    post_update(page, "รถติดที่ด่านอรัญประเทศ รอตรวจเอกสาร", big_photo(tmp_path))
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
    page.evaluate("window.scrollTo(0, 0)")
    artifacts = offline_live.ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    assert page.evaluate("document.documentElement.lang") == "th"
    page.screenshot(path=str(artifacts / "offline-banner-th.png"))
    page.goto(app_server.url + "/offline")
    page.locator("#outbox-list .outbox-failed").wait_for()
    page.locator("#outbox-list .outbox-pending").wait_for()
    page.screenshot(path=str(artifacts / "outbox-view-th.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing sticks out sideways at phone size


def test_a_comment_on_an_issue_written_offline_arrives_once(app, app_server, phone, world):
    from secgo.models import IssueComment

    context, page = start(phone)
    login(page, app_server, "producer")
    page.goto(f"{app_server.url}/issues/{world.issue}")
    wait_for_worker(page)
    page.reload()
    context.set_offline(True)
    page.reload()
    assert page.evaluate("document.body.dataset.savedAt")
    comment_form = page.locator("form[data-outbox]:has(textarea[name=body])")
    comment_form.locator("textarea[name=body]").fill("ສົ່ງເພີ່ມ 10 ຖົງ ມື້ອື່ນ")
    comment_form.locator("button:not([type=button])").click()
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
    context.set_offline(False)
    wait_until_sent(page)
    with app.app_context():
        bodies = db.session.scalars(select(IssueComment.body).where(IssueComment.issue_id == world.issue)).all()
        db.session.remove()
    assert bodies.count("ສົ່ງເພີ່ມ 10 ຖົງ ມື້ອື່ນ") == 1


def test_with_no_page_open_background_sync_sends_the_queue(app, app_server, phone):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    context.set_offline(True)
    page.reload()
    page.fill(".update-form textarea[name=note]", "sent by the worker")
    page.click(".update-form button[value=note]")
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
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
    deadline = time.monotonic() + 30
    while not updates_with(app, "sent by the worker") and time.monotonic() < deadline:
        time.sleep(0.3)
    assert len(updates_with(app, "sent by the worker")) == 1


def test_on_a_very_slow_signal_the_saved_copy_shows_after_a_few_seconds(app_server, phone):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    (app_server.tmp / "slow-pages").write_text("20")
    started = time.monotonic()
    page.reload()
    waited = time.monotonic() - started
    shown = page.evaluate("""() => ({saved: document.body.dataset.savedAt, fallback: document.body.dataset.fallback,
        url: location.href, text: document.body.innerText.slice(0, 160)})""")
    assert waited < 15, (waited, shown)  # not the 20 s of the network: the 3 s timeout
    assert shown["saved"], (waited, shown)  # what was shown instead, should it ever fail again
    assert "saved copy from" in page.inner_text("#offline-banner")
    (app_server.tmp / "slow-pages").unlink()


def test_a_server_error_during_replay_keeps_the_report_and_retries(app, app_server, phone):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    context.set_offline(True)
    page.reload()
    page.fill(".update-form textarea[name=note]", "kept through a 503")
    page.click(".update-form button[value=note]")
    page.locator(".outbox-entry.outbox-pending").wait_for()
    wait_first_try(page)
    (app_server.tmp / "fail-writes").touch()
    context.set_offline(False)
    log = app_server.tmp / "server.log"
    deadline = time.monotonic() + 45
    while " 503 " not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert " 503 " in log.read_text()
    time.sleep(1)
    (item,) = page.evaluate(READ_OUTBOX)
    assert item["state"] == "pending" and badge_count(page) == 1  # never removed by a 5xx
    (app_server.tmp / "fail-writes").unlink()
    wait_until_sent(page)  # the back-off timer tries again
    assert len(updates_with(app, "kept through a 503")) == 1


def test_online_a_refused_report_comes_back_into_the_form_with_the_reason(
    app, app_server, phone, tmp_path,
):
    context, page = start(phone)
    login(page, app_server)
    open_order(page, app_server)
    fake = tmp_path / "scan.jpg"
    fake.write_bytes(b"not a picture either")
    post_update(page, "typed once, kept", fake)
    error = page.locator(".update-form .outbox-error").first
    error.wait_for()
    assert "Only photos" in error.inner_text()
    assert page.input_value(".update-form textarea[name=note]") == "typed once, kept"
    assert page.evaluate("document.querySelector('.update-form input[name=photos]').files.length") == 1
    assert page.evaluate(READ_OUTBOX) == [] and badge_count(page) == 0
    assert updates_with(app, "typed once, kept") == []
