"""In Chromium at 360 px: a label printed from the PDF, photographed or held to the camera, opens
its order through the scanner page; any other QR code is refused in the reader's language.

Headless Chromium on Linux has no BarcodeDetector, so these read with the vendored reader
(static/js/vendor/qrdecode.js), the path a phone without BarcodeDetector takes. The camera is
Chromium's fake one, fed a Y4M video of the label.
"""
import io

import pypdfium2 as pdfium
import pytest
import segno
from PIL import Image

from tests.browser.conftest import ARGS, CHROMIUM
from tests.browser.offline_live import wait_js
from tests.browser.test_order_flow import set_locale
from tests.test_orders import make_order

pytestmark = pytest.mark.once


NO_DETECTOR = "delete window.BarcodeDetector;"
RESET = "document.querySelector('[data-scan-status]').className = 'scan-status'"
REFUSED = "document.querySelector('[data-scan-status]').classList.contains('error')"


def label_png(page, base, ref) -> bytes:
    """The first label of a sheet printed by the producer, as a phone photo of it would frame it."""
    response = page.request.get(f"{base}/orders/{ref}/labels.pdf?packages=4&per_package=25")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    doc = pdfium.PdfDocument(response.body())
    image = doc[0].render(scale=200 / 72).to_pil()
    doc.close()
    label = image.crop((0, 0, image.width // 3, image.height // 8))
    out = io.BytesIO()
    label.save(out, format="PNG")
    return out.getvalue()


def qr_png(text) -> bytes:
    out = io.BytesIO()
    segno.make(text).save(out, kind="png", scale=8, border=4)
    return out.getvalue()


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_a_photo_of_a_printed_label_opens_its_order(app, world, live_server, page, login):
    ref = make_order(app, world, product="អង្ករសរីរាង្គ")
    login("producer")
    png = label_png(page, live_server.url, ref)
    page.add_init_script(NO_DETECTOR)
    page.goto(f"{live_server.url}/scan")
    wait_js(page, "document.querySelector('[data-scanner]').dataset.ready === '1'")
    page.set_input_files("#label-photo", files=[{"name": "label.png", "mimeType": "image/png", "buffer": png}])
    wait_js(page, f"location.pathname === '/orders/{ref}'", timeout=60)
    assert ref in page.inner_text("h1")


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_another_qr_code_is_refused_in_the_readers_language(app, world, live_server, page, login):
    set_locale(app, "customer", "km")
    login("customer")
    page.add_init_script(NO_DETECTOR)
    page.goto(f"{live_server.url}/scan")
    wait_js(page, "document.querySelector('[data-scanner]').dataset.ready === '1'")
    for text in ("https://example.com/l/SEC-7K3F9Q", "WIFI:T:WPA;S:warehouse;P:secret;;"):
        page.evaluate(RESET)
        page.set_input_files("#label-photo", files=[{"name": "qr.png", "mimeType": "image/png",
                                                     "buffer": qr_png(text)}])
        wait_js(page, REFUSED, timeout=60)
        status = page.inner_text("[data-scan-status]")
        assert "SEC GO!" in status and "QR" in status and any("\u1780" <= c <= "\u17ff" for c in status)
        assert page.url.endswith("/scan")
    # A picture with no code at all says so.
    blank = io.BytesIO()
    Image.new("RGB", (320, 240), "white").save(blank, format="PNG")
    page.evaluate(RESET)
    page.set_input_files("#label-photo", files=[{"name": "x.png", "mimeType": "image/png", "buffer": blank.getvalue()}])
    wait_js(page, REFUSED, timeout=60)
    assert "QR" in page.inner_text("[data-scan-status]")
    assert page.url.endswith("/scan")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def y4m(png: bytes, path, frames=10, size=(640, 480)):
    """A short Y4M video (4:2:0) of the picture on white, for Chromium's fake camera."""
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    frame = Image.new("RGB", size, "white")
    picture.thumbnail((size[0] - 40, size[1] - 40))
    frame.paste(picture, ((size[0] - picture.width) // 2, (size[1] - picture.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (size[0] // 2, size[1] // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + planes)


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_holding_a_label_to_the_camera_opens_its_order(app, world, live_server, page, login,
                                                       playwright_instance, tmp_path):
    ref = make_order(app, world, product="Organic jasmine rice")
    login("producer")
    video = tmp_path / "label.y4m"
    y4m(label_png(page, live_server.url, ref), video)
    cookies = page.context.cookies()
    camera = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=ARGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        context = camera.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
        context.grant_permissions(["camera"], origin=live_server.url)
        context.add_cookies(cookies)
        context.add_init_script(NO_DETECTOR)
        phone = context.new_page()
        phone.set_default_timeout(15000)
        phone.goto(f"{live_server.url}/scan")
        wait_js(phone, "document.querySelector('[data-scanner]').dataset.ready === '1'")
        # The camera is asked for only on the tap.
        assert phone.evaluate("document.querySelector('video').srcObject") is None
        phone.click("[data-scan-start]")
        wait_js(phone, f"location.pathname === '/orders/{ref}'", timeout=60)
        context.close()
    finally:
        camera.close()


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_without_the_qr_reader_the_scanner_says_so(app, world, live_server, browser):
    """Offline before its first use (the reader is fetched on demand, never precached). Without a
    service worker here, so that the blocked route is the page's own fetch."""
    from tests.factories import PASSWORD

    set_locale(app, "producer", "my")
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, service_workers="block")
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=login]", "producer")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit], form button").last.click()
        page.wait_for_load_state()
        page.add_init_script(NO_DETECTOR)
        page.route("**/static/js/vendor/**", lambda route: route.abort())
        page.goto(f"{live_server.url}/scan")
        wait_js(page, "document.querySelector('[data-scanner]').dataset.ready === '1'")
        page.set_input_files("#label-photo", files=[{"name": "qr.png", "mimeType": "image/png",
                                                     "buffer": qr_png("https://example.com/")}])
        wait_js(page, REFUSED, timeout=60)
        status = page.inner_text("[data-scan-status]")
        assert any("\u1000" <= c <= "\u109f" for c in status) and "QR" not in status
    finally:
        context.close()


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_a_clerk_with_only_a_tracking_link_scans_a_label_into_the_tracking_page(app, world, live_server, page,
                                                                                login, browser):
    ref = make_order(app, world, product="Organic jasmine rice")
    login("producer")
    png = label_png(page, live_server.url, ref)
    page.goto(f"{live_server.url}/orders/{ref}/links")
    page.fill("#contact_name", "Warehouse clerk")
    page.locator("form.card button").click()
    page.wait_for_load_state()
    url = page.get_attribute("[data-url]", "data-url")
    # The clerk's phone: no account, only the link (and no service worker: this is about /l/).
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, service_workers="block")
    try:
        phone = context.new_page()
        phone.set_default_timeout(15000)
        phone.add_init_script(NO_DETECTOR)
        phone.goto(url)
        phone.click("a[href='/scan']")
        wait_js(phone, "document.querySelector('[data-scanner]').dataset.ready === '1'")
        phone.set_input_files("#label-photo", files=[{"name": "label.png", "mimeType": "image/png",
                                                      "buffer": png}])
        try:
            wait_js(phone, f"location.href === {url!r}", timeout=60)
        except AssertionError:
            raise AssertionError(f"at {phone.url}: {phone.inner_text('main')[:300]}") from None
    finally:
        context.close()
