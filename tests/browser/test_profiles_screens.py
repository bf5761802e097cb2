"""A producer fills in its profile on a 360 px phone in Khmer; a buyer finds it in the
directory and asks; the thread and every page fit the phone."""
import pytest

from secgo.extensions import db
from secgo.models import Profile, User
from tests.browser.offline_live import wait_js
from tests.factories import jpeg_bytes

pytestmark = pytest.mark.once


NO_LIMITS = {"RATELIMIT_ENABLED": False}


def _fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("app", [NO_LIMITS], indirect=True)
def test_a_profile_is_filled_in_found_and_asked_about_on_a_phone(app, world, live_server, page, login,
                                                                  screenshot, tmp_path):
    with app.app_context():
        for name in ("producer", "customer"):
            db.session.get(User, world.users[name]).locale = "km"
        db.session.commit()
    scan = tmp_path / "certificate.jpg"
    scan.write_bytes(jpeg_bytes((400, 300)))
    login("producer")
    page.goto(f"{live_server.url}/profiles/mine")
    page.locator(f"a[href='/profiles/{world.orgs['farm']}/edit']").click()
    page.wait_for_load_state()
    assert page.locator("html[lang=km]").count() == 1 and _fits(page)
    page.fill("#description", "ស្រូវសរីរាង្គពីតាកែវ")
    page.fill("#p0_name", "អង្ករផ្កាម្លិះ")
    page.fill("#p0_name_en", "Jasmine rice")
    page.fill("#p0_capacity", "20000")
    page.fill("#p0_unit", "kg")
    page.select_option("#c0_kind", "organic")
    page.set_input_files("#c0_file", str(scan))
    # The picker (a PDF or a photo of the paper) names the file chosen; never the browser's
    # English "No file chosen".
    wait_js(page, "document.getElementById('c0_file-name').textContent.includes('certificate.jpg')")
    assert "chosen" not in page.locator("#c0_file-name").inner_text()
    page.locator("input[name=show_track_record]").check()
    screenshot("profile-edit-km")
    page.locator("form button.primary").click()
    page.wait_for_load_state()
    assert page.locator("text=អង្ករផ្កាម្លិះ").count() == 1 and _fits(page)
    with app.app_context():
        profile = db.session.get(Profile, world.orgs["farm"])
        assert profile.certifications[0].document_id and profile.show_track_record

    login("customer")
    page.goto(f"{live_server.url}/directory")
    page.fill("#q", "ផ្កាម្លិះ")
    page.locator("form[role=search] button").click()
    page.wait_for_load_state()
    assert page.locator(".directory-item").count() == 1 and _fits(page)
    screenshot("directory-km")
    page.locator(".directory-item a").first.click()
    page.wait_for_load_state()
    page.fill("#body", "តើអាចផ្ញើ ៥ តោន ទៅបាងកកនៅខែមីនាបានទេ?")
    page.locator("#enquiry form button.primary").click()
    page.wait_for_url("**/enquiries/*", timeout=45000)  # the outbox sends it, then opens the thread
    page.wait_for_load_state()
    assert "/enquiries/" in page.url and page.locator(".tl .note").count() == 1 and _fits(page)
    screenshot("enquiry-km")
