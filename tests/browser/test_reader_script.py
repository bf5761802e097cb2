"""Every word in the reader's script, in Chromium: the photo picker speaks the page's language
(and opens the picker without scripts), and a tab bar that does not fit scrolls with its labels
whole and a fade at the edge where more tabs are."""
import pytest

from secgo.extensions import db
from secgo.models import User
from tests.factories import WORLD_ORDER
from tests.browser.offline_live import wait_js

pytestmark = pytest.mark.once


NO_LIMITS = {"RATELIMIT_ENABLED": False}


def _set_locale(app, world, name, locale):
    with app.app_context():
        db.session.get(User, world.users[name]).locale = locale
        db.session.commit()


def _photos(n):
    return [{"name": f"p{i}.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0" + bytes(64)}
            for i in range(n)]


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
def test_the_photo_picker_says_how_many_photos_are_chosen_in_burmese(app, world, live_server, page, login):
    _set_locale(app, world, "producer", "my")
    login("producer")
    page.goto(f"{live_server.url}/orders/{WORLD_ORDER}")
    button = page.locator("label.photo-btn[for=photos]")
    assert "ဓာတ်ပုံ ရွေးရန်" in button.inner_text()
    assert button.bounding_box()["height"] >= 44
    count = page.locator("#photos-count")
    wait_js(page, "document.querySelector('#photos-count').textContent !== ''")
    assert count.inner_text() == "ဓာတ်ပုံ မရွေးရသေးပါ"
    page.set_input_files("#photos", _photos(2))
    assert count.inner_text() == "ဓာတ်ပုံ 2 ပုံ ရွေးထားတယ်"
    page.set_input_files("#photos", _photos(1))
    assert count.inner_text() == "ဓာတ်ပုံ 1 ပုံ ရွေးထားတယ်"
    body = page.inner_text("body")
    assert "Choose File" not in body and "No file chosen" not in body


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
def test_without_scripts_the_translated_button_still_opens_the_picker(app, world, live_server, browser):
    from tests.factories import PASSWORD

    _set_locale(app, world, "producer", "km")
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=login]", "producer")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button").last.click()
        page.goto(f"{live_server.url}/orders/{WORLD_ORDER}")
        with page.expect_file_chooser() as chosen:
            page.click("label.photo-btn[for=photos]")
        assert chosen.value.is_multiple()
        assert "ជ្រើសរូបថត" in page.inner_text("label.photo-btn[for=photos]")
    finally:
        context.close()


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
def test_a_tab_bar_too_wide_for_the_phone_scrolls_with_whole_labels_and_a_fade(app, world, live_server, page, login):
    _set_locale(app, world, "coordinator", "my")
    page.set_viewport_size({"width": 320, "height": 640})
    login("coordinator")
    page.goto(f"{live_server.url}/orders")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    bar = page.locator("nav.tabs")
    assert page.evaluate("(n) => n.scrollWidth > n.clientWidth", bar.element_handle())
    assert bar.get_attribute("data-more-after") is not None  # the fade says more is there
    # every label on one line: as tall as one line of its text
    heights = page.evaluate("""() => [...document.querySelectorAll('nav.tabs .tab-label')].map(
        (s) => s.getClientRects().length)""")
    assert heights and all(lines == 1 for lines in heights), heights
    page.evaluate("document.querySelector('nav.tabs').scrollLeft = 9999")
    wait_js(page, "!document.querySelector('nav.tabs').hasAttribute('data-more-after')")
    assert bar.get_attribute("data-more-before") is not None
    page.click("nav.tabs .tab-more > summary")
    assert page.locator("nav.tabs .tab-menu a").first.is_visible()


def _dark_pixels(png: bytes, right_margin: int = 40) -> int:
    """Pixels of text in an element's picture, leaving out the calendar button at its right."""
    import io

    from PIL import Image

    picture = Image.open(io.BytesIO(png)).convert("L")
    width, height = picture.size
    box = picture.crop((4, 4, max(5, width - right_margin), height - 4))
    return sum(box.histogram()[:110])


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
def test_an_empty_date_field_shows_no_english_pattern_and_a_chosen_date_shows(
        app, world, live_server, page, login):
    _set_locale(app, world, "producer", "km")
    login("producer")
    page.goto(f"{live_server.url}/orders/new")
    due = page.locator("input[type=date]").first
    wait_js(page, "document.querySelector('input[type=date]').classList.contains('is-empty')")
    assert _dark_pixels(due.screenshot()) == 0  # no "mm/dd/yyyy"
    due.fill("2026-12-24")
    page.locator("h1").first.click()  # away from the field, as a reader would
    assert not due.evaluate("el => el.classList.contains('is-empty')")
    assert _dark_pixels(due.screenshot()) > 20  # the chosen date is drawn
