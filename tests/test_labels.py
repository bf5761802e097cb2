"""QR labels for sacks and crates: the A4 PDF, its QR code, its words, and what a scanned label opens."""
import re
from collections import Counter
from html import unescape

import pypdfium2 as pdfium
import pytest
import segno

from secgo.extensions import db
from secgo.models import Organization, User
from secgo.orders import labels
from tests.issue_factories import make_order
from tests.test_api_orders import token_for

NO_CSRF = [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}]
REF = "SEC-7K3F9Q"
KHMER_PRODUCT = "អង្ករផ្កាម្លិះសរីរាង្គ"


def _order(app, world, *, producer="farm", product=KHMER_PRODUCT, reference=REF):
    with app.app_context():
        order = make_order(world.orgs[producer], world.orgs["buyer"], reference=reference, product=product)
        db.session.commit()
        return order.reference


def _set_locale(app, world, who, locale):
    with app.app_context():
        db.session.get(User, world.users[who]).locale = locale
        db.session.commit()


def _pages_text(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def _squeezed(text: str) -> str:
    return re.sub(r"\s", "", text)


def _has_letters(text: str, words: str) -> bool:
    """The text layer holds these words' letters. PDFium gives a Khmer cluster's characters in the
    order the glyphs stand on the page (a subscript or a vowel drawn left of its consonant comes
    first), so Khmer is compared as letters, without order; other scripts are compared exactly."""
    have = Counter(c for c in text if not c.isspace())
    return not Counter(c for c in words if not c.isspace()) - have


# --- the PDF ----------------------------------------------------------------------------------

@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_a_producer_prints_thirty_labels_on_two_a4_sheets_in_khmer_and_english(app, world, client, auth):
    _order(app, world)
    auth.login("producer")
    response = client.get(f"/orders/{REF}/labels.pdf?packages=30&per_package=50")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"inline; filename=labels-{REF}.pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    pdf = response.get_data()
    doc = pdfium.PdfDocument(pdf)
    assert len(doc) == 2
    width, height = doc[0].get_size()
    doc.close()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4
    first, second = _pages_text(pdf)
    # (PDFium may break a line inside the reference where a taller Khmer line stands beside it)
    assert _squeezed(first).count(REF) == labels.PER_SHEET
    assert _squeezed(second).count(REF) == 30 - labels.PER_SHEET
    # Every label has every line, the last row of a sheet too (nothing pushed past the page).
    both = _squeezed(first + second)
    assert all(f"Package{n}of30" in both for n in range(1, 31))
    assert both.count("Perpackage:50kg") == 30
    assert "Package 24 of 30" in first and "Package 30 of 30" in second
    # The producer (Takeo, Cambodia) reads Khmer: "Package 1 of 30" and "Per package". (The product
    # is drawn right, but WeasyPrint's text layer maps a few Khmer ligature glyphs, such as ផា,
    # to no letter: copied out of the PDF it reads wrong, so it is not compared here.)
    assert _has_letters(first, "កញ្ចប់ទី 1 នៃ 30") and _has_letters(first, "ក្នុងមួយកញ្ចប់")
    assert _has_letters(first, "សរីរាង្គ")


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_a_burmese_producers_labels_are_in_burmese_and_english(app, world, client, auth):
    with app.app_context():
        db.session.get(Organization, world.orgs["weaver"]).country = "MM"
        db.session.commit()
    _order(app, world, producer="weaver", product="မန္တလေး သရက်သီး")
    auth.login("other_producer")
    response = client.get(f"/orders/{REF}/labels.pdf?packages=3&per_package=12.5")
    assert response.status_code == 200
    (text,) = _pages_text(response.get_data())
    assert "အထုပ် 3 / 3" in text and "တစ်ထုပ်စီမှာ: 12.5 kg" in text
    assert "Package 3 of 3" in text and "Per package: 12.5 kg" in text


def _dark_box(image, box):
    """The bounding box of the dark pixels inside box (left, top, right, bottom)."""
    crop = image.crop(box).convert("L").point(lambda v: 255 if v < 128 else 0)
    left, top, right, bottom = crop.getbbox()
    return box[0] + left, box[1] + top, box[0] + right, box[1] + bottom


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_every_labels_qr_code_is_the_orders_label_address_module_for_module(app, world, client, auth):
    """No QR reader is in the lock: the page is drawn by PDFium and each module of the first and the
    last label's code is read back and compared with the code segno makes for the label URL."""
    _order(app, world)
    auth.login("coordinator")
    pdf = client.get(f"/orders/{REF}/labels.pdf?packages=24&per_package=4").get_data()
    expected = segno.make(f"http://localhost/l/{REF}", error="m")
    matrix = [list(row) for row in expected.matrix]
    n = len(matrix)
    doc = pdfium.PdfDocument(pdf)
    image = doc[0].render(scale=300 / 72).to_pil()
    doc.close()
    cell_w, cell_h = image.width / 3, image.height / 8
    for col, row in ((0, 0), (2, 7)):
        # The code sits in the left 28 mm of its 70 mm label (the words begin at 29.5 mm).
        box = (int(col * cell_w + 8), int(row * cell_h + 8), int(col * cell_w + cell_w * 28 / 70),
               int((row + 1) * cell_h - 8))
        left, top, right, bottom = _dark_box(image, box)
        assert abs((right - left) - (bottom - top)) <= 2  # square
        module = (right - left) / n
        assert module * 25.4 / 300 > 0.5  # over half a millimetre a module: a phone reads it
        grey = image.convert("L")
        read = [[grey.getpixel((int(left + (x + .5) * module), int(top + (y + .5) * module))) < 128
                 for x in range(n)] for y in range(n)]
        assert read == [[bool(v) for v in r] for r in matrix]


# --- the form and its refusals ------------------------------------------------------------------

@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_the_order_page_offers_labels_to_the_producer_side_only(app, world, client, auth):
    _order(app, world)
    auth.login("producer")
    assert f'href="/orders/{REF}/labels"' in client.get(f"/orders/{REF}").get_data(as_text=True)
    form = client.get(f"/orders/{REF}/labels")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert f'action="/orders/{REF}/labels.pdf"' in html and 'method="get"' in html
    auth.logout()
    auth.login("customer")
    assert "/labels" not in client.get(f"/orders/{REF}").get_data(as_text=True)
    assert client.get(f"/orders/{REF}/labels").status_code == 403
    assert client.get(f"/orders/{REF}/labels.pdf?packages=2&per_package=1").status_code == 403
    auth.logout()
    auth.login("other_producer")
    assert client.get(f"/orders/{REF}/labels").status_code == 404
    assert client.get(f"/orders/{REF}/labels.pdf?packages=2&per_package=1").status_code == 404


HOSTILE = [
    ({"packages": "0", "per_package": "5"}, "packages"),
    ({"packages": "501", "per_package": "5"}, "packages"),
    ({"packages": "1000000000", "per_package": "5"}, "packages"),
    ({"packages": "9" * 400, "per_package": "5"}, "packages"),
    ({"packages": "-3", "per_package": "5"}, "packages"),
    ({"packages": "forty", "per_package": "5"}, "packages"),
    ({"packages": "1e3", "per_package": "5"}, "packages"),
    ({"packages": "4.5", "per_package": "5"}, "packages"),
    ({"packages": "<script>alert(1)</script>", "per_package": "5"}, "packages"),
    ({"per_package": "5"}, "packages"),
    ({"packages": "4", "per_package": "0"}, "per_package"),
    ({"packages": "4", "per_package": "abc"}, "per_package"),
    ({"packages": "4", "per_package": "nan"}, "per_package"),
    ({"packages": "4", "per_package": "101"}, "per_package"),  # more than the whole order (100 kg)
    ({"packages": "4"}, "per_package"),
]


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
@pytest.mark.parametrize("args, field", HOSTILE)
def test_bad_numbers_come_back_on_the_form_with_a_localized_error_and_no_pdf(app, world, client, auth,
                                                                            args, field):
    _order(app, world)
    _set_locale(app, world, "producer", "km")
    auth.login("producer")
    response = client.get(f"/orders/{REF}/labels.pdf", query_string=args)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    error = re.search(rf'<small class="error" id="err-{field}">([^<]+)</small>', html)
    assert error, html[-3000:]
    assert re.search(r"[\u1780-\u17FF]", unescape(error.group(1)))  # in Khmer
    assert "<script>alert" not in html


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_khmer_digits_are_numbers_too(app, world, client, auth):
    _order(app, world)
    auth.login("producer")
    response = client.get(f"/orders/{REF}/labels.pdf", query_string={"packages": "២៥", "per_package": "៤"})
    assert response.status_code == 200
    assert len(_pages_text(response.get_data())) == 2  # 25 labels


# --- API v1 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_the_api_prints_labels_and_refuses_bad_numbers_as_json(app, world, client):
    _order(app, world)
    headers = token_for(app, "producer")
    ok = client.get(f"/api/v1/orders/{REF}/labels.pdf?packages=48&per_package=2", headers=headers)
    assert ok.status_code == 200 and ok.mimetype == "application/pdf"
    assert len(_pages_text(ok.get_data())) == 2
    for query, field in (("packages=0&per_package=1", "packages"),
                         ("packages=1000000000&per_package=1", "packages"),
                         ("packages=ten&per_package=1", "packages"),
                         ("packages=2&per_package=x", "per_package")):
        bad = client.get(f"/api/v1/orders/{REF}/labels.pdf?{query}", headers=headers)
        assert bad.status_code == 422 and bad.is_json, query
        assert field in bad.get_json()["error"]["fields"]
    customer = client.get(f"/api/v1/orders/{REF}/labels.pdf?packages=2&per_package=1",
                          headers=token_for(app, "customer"))
    assert customer.status_code == 403 and customer.is_json
    outsider = client.get(f"/api/v1/orders/{REF}/labels.pdf?packages=2&per_package=1",
                          headers=token_for(app, "other_producer"))
    assert outsider.status_code == 404 and outsider.is_json
    assert client.get(f"/api/v1/orders/{REF}/labels.pdf?packages=2&per_package=1").status_code == 401


def test_the_openapi_document_describes_the_labels(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/orders/{reference}/labels.pdf"]["get"]
    assert "application/pdf" in op["responses"]["200"]["content"]
    assert {p["name"] for p in op["parameters"]} == {"reference", "packages", "per_package"}


# --- what a scanned label opens ----------------------------------------------------------------

@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_a_scanned_label_opens_the_order_for_whoever_may_see_it(app, world, client, auth):
    _order(app, world)
    for who in ("producer", "customer", "coordinator", "admin"):
        auth.login(who)
        response = client.get(f"/l/{REF.lower()}")
        assert response.status_code == 302 and response.headers["Location"] == f"/orders/{REF}", who
        auth.logout()


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_a_label_never_tells_whether_an_order_exists(app, world, client, auth):
    _order(app, world)
    # Signed out: sign in, for a real label and for a made-up one alike.
    real, fake = client.get(f"/l/{REF}"), client.get("/l/SEC-ZZZZZZ")
    assert real.status_code == fake.status_code == 302
    assert real.headers["Location"].split("?")[0] == fake.headers["Location"].split("?")[0] == "/login"
    # Signed in but not on the order: the same 404 as a code that names nothing.
    auth.login("other_producer")
    real, fake = client.get(f"/l/{REF}"), client.get("/l/SEC-ZZZZZZ")
    assert real.status_code == fake.status_code == 404
    def shown(answer, code):  # a CSRF token is signed with the second it was made: not compared
        return re.sub(r'name="csrf_token"([^>]*)value="[^"]*"', r'name="csrf_token"\1',
                      answer.get_data(as_text=True).replace(code, "?"))

    assert shown(real, REF) == shown(fake, "SEC-ZZZZZZ")
    assert client.get("/l/" + "A" * 300).status_code == 404


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_a_tracking_link_holder_who_scans_a_label_gets_the_tracking_page(app, world, client, auth):
    _order(app, world)
    _order(app, world, reference="SEC-OTHER2")
    auth.login("producer")
    page = client.post(f"/orders/{REF}/links", data={"contact_name": "Warehouse clerk"})
    url = unescape(re.search(r'data-url="([^"]+)"', page.get_data(as_text=True)).group(1))
    token = url.rsplit("/t/", 1)[1]
    auth.logout()
    clerk = app.test_client()
    opened = clerk.get(f"/t/{token}")
    assert opened.status_code == 200
    cookie = opened.headers["Set-Cookie"]
    assert "Path=/l/" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    scanned = clerk.get(f"/l/{REF}")
    assert scanned.status_code == 302 and scanned.headers["Location"] == f"/t/{token}"
    # The link is for this order only: another order's label asks to sign in, as for anyone.
    assert clerk.get("/l/SEC-OTHER2").headers["Location"].startswith("/login")
    # A cookie with a forged or someone else's token opens nothing.
    stranger = app.test_client()
    stranger.set_cookie("secgo_track", "forged.token~" + token[:-2] + "xx", path="/l/")
    assert stranger.get(f"/l/{REF}").headers["Location"].startswith("/login")


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False}], indirect=True)
def test_label_lookups_are_rate_limited(app, world, client):
    answers = [client.get(f"/l/SEC-{i:06d}").status_code for i in range(61)]
    assert answers[:60] == [302] * 60 and answers[60] == 429


# --- the scanner page ----------------------------------------------------------------------------

@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_the_scanner_is_linked_from_the_orders_list_and_loads_its_script_only_there(app, world, client, auth):
    _set_locale(app, world, "customer", "my")
    auth.login("customer")
    orders = client.get("/orders").get_data(as_text=True)
    assert 'href="/scan"' in orders and "scan.js" not in orders
    page = client.get("/scan")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<script type="module" src="/static/js/scan\.js\?v=[0-9a-f]+"', html)
    assert "qrdecode" not in html  # loaded by scan.js only where the browser has no BarcodeDetector
    assert "camera=(self)" in page.headers["Permissions-Policy"]
    assert "တံဆိပ်" in html  # the page in the viewer's language
    for path in ("/orders", "/issues", "/settings"):
        assert "scan.js" not in client.get(path).get_data(as_text=True)


def test_the_vendored_qr_reader_carries_its_licence():
    from pathlib import Path

    import secgo

    text = (Path(secgo.__file__).parent / "static" / "js" / "vendor" / "qrdecode.js").read_text()
    assert text.startswith("/*! qrdecode.js") and "Paul Miller" in text and "MIT" in text
    assert "export" in text and "decodeQR" in text


def test_the_service_worker_precaches_the_scanner_but_not_the_qr_reader_every_phone_would_download(client):
    import json

    source = client.get("/service-worker.js").get_data(as_text=True)
    shell = json.loads(re.search(r"^const SHELL = (\[.*\]);", source, re.M).group(1))
    assert any(url.startswith("/static/js/scan.js?v=") for url in shell)
    assert not [url for url in shell if "/vendor/" in url]


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
@pytest.mark.parametrize("locale, name", [("my", "ခမာ"), ("th", "เขมร"), ("vi", "tiếng Khmer"), ("en", "Khmer")])
def test_the_form_names_the_labels_language_in_the_readers_language(app, world, client, auth, locale, name):
    _order(app, world)
    _set_locale(app, world, "producer", locale)
    auth.login("producer")
    html = client.get(f"/orders/{REF}/labels").get_data(as_text=True)
    assert name in html and "ខ្មែរ និង" not in html


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_a_product_name_with_markup_is_printed_as_text_and_fetches_nothing(app, world, client, auth, monkeypatch):
    import urllib.request

    opened, real_open = [], urllib.request.OpenerDirector.open

    def spy(self, url, *args, **kwargs):
        opened.append(getattr(url, "full_url", url))
        return real_open(self, url, *args, **kwargs)

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", spy)
    _order(app, world, product='<img src="file:///etc/passwd"><link rel=stylesheet href="http://example.com/x.css">')
    auth.login("producer")
    response = client.get(f"/orders/{REF}/labels.pdf?packages=1&per_package=1")
    assert response.status_code == 200
    (text,) = _pages_text(response.get_data())
    assert "file:///etc/passwd" in _squeezed(text)  # printed as the text it is
    assert opened and all(url.startswith("data:") for url in opened)  # the QR code, nothing else
