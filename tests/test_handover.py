"""Proof at handover: the receiver's name with a signature drawn on the screen or the order's
6-digit handover code; the code is the producer side's only, wrong codes lock it; tracking-link
writes need no session (the outbox replays them after a browser restart)."""
import io
import re
import threading
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import Attachment, DeliveryConfirmation, Order
from secgo.orders import handover
from tests.factories import signature_png as plain_signature
from tests.live import live_server_fixture  # noqa: F401  (the live_server fixture)
from tests.test_api_orders import token_for
from tests.test_orders import make_order
from tests.test_photos import jpeg_with_gps, multipart
from tests.test_tracking import create_link

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
COUNTED = {"WTF_CSRF_ENABLED": False}  # the limiter on (the test Redis), as in production
plain = pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
RECEIVED = {"received_quantity": "100", "condition": "good"}


def signature_png(size=(600, 240), text=None) -> bytes:
    """A signature pad's PNG; with text, a tEXt chunk that must not survive."""
    if not text:
        return plain_signature(size)
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", text)
    out = io.BytesIO()
    Image.open(io.BytesIO(plain_signature(size))).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def bearer(app, username) -> dict:
    """A bearer token of that user's integration, made once per app."""
    made = app.extensions.setdefault("test_bearers", {})
    if username not in made:
        made[username] = token_for(app, username)
    return made[username]


def code_of(app, ref) -> str:
    with app.test_request_context():
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        return handover.code_for(order)


def deliveries(app):
    with app.app_context():
        return db.session.scalars(select(DeliveryConfirmation)).all()


def sign(client, url, name="Somchai <script>alert(1)</script>", png=None, key="sign-key-0001",
         **headers):
    body, content_type = multipart({**RECEIVED, "receiver_name": name, "proof": "signature",
                                    "client_id": key},
                                   [("signature", "signature.png", png or signature_png())])
    return client.post(url, data=body, content_type=content_type, headers=headers)


@plain
def test_the_producer_side_sees_the_code_and_the_customer_side_never(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    html = client.get(f"/orders/{ref}").get_data(as_text=True)
    code = code_of(app, ref)
    assert re.fullmatch(r"\d{6}", code)
    assert f"{code[:3]}&#8201;{code[3:]}" in html and "Handover code" in html
    token = create_link(client, ref)
    auth.logout()
    auth.login("coordinator")
    assert code[:3] + "&#8201;" in client.get(f"/orders/{ref}").get_data(as_text=True)
    auth.logout()
    auth.login("customer")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert code not in page.replace("&#8201;", "") and "Type the handover code" in page
    auth.logout()
    tracking = client.get(f"/t/{token}").get_data(as_text=True)
    assert code not in tracking and 'data-outbox-owner="t' in tracking
    assert "data-signature-pad" in tracking
    # The API: the producer's side reads it; the customer is refused; outsiders never see it.
    read = f"/api/v1/orders/{ref}/handover-code"
    assert client.get(read, headers=bearer(app, "producer")).json["handover_code"] == code
    assert client.get(read, headers=bearer(app, "customer")).status_code == 403
    assert client.get(read, headers=bearer(app, "other_producer")).status_code == 404
    assert client.get(read).status_code == 401
    order_json = client.get(f"/api/v1/orders/{ref}", headers=bearer(app, "customer")).get_data(as_text=True)
    assert code not in order_json


@plain
def test_the_right_code_confirms_delivery_and_the_timeline_says_so(app, world, client, auth):
    ref = make_order(app, world)
    code = code_of(app, ref)
    auth.login("customer")
    refused = client.post(f"/orders/{ref}/delivery", data={
        **RECEIVED, "receiver_name": "Nok", "proof": "code", "handover_code": "000000"
        if code != "000000" else "111111"})
    assert refused.status_code == 422
    assert "This is not the handover code of this order" in refused.get_data(as_text=True)
    assert deliveries(app) == []
    ok = client.post(f"/orders/{ref}/delivery", data={
        **RECEIVED, "receiver_name": "Nok", "proof": "code", "handover_code": code})
    assert ok.status_code == 303
    [row] = deliveries(app)
    assert (row.receiver_name, row.proof, row.signature_id) == ("Nok", "code", None)
    html = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Delivery confirmed by Nok with the handover code" in html


@plain
def test_a_wrong_code_is_refused_in_the_readers_language(app, world, client, auth):
    ref = make_order(app, world)
    other = make_order(app, world, product="Mango")
    auth.login("customer")
    body = {**RECEIVED, "receiver_name": "Nok", "proof": "code", "handover_code": code_of(app, other)}
    if body["handover_code"] == code_of(app, ref):  # one in a million
        pytest.skip("the two orders drew the same code")
    refused = client.post(f"/api/v1/orders/{ref}/delivery", json=body,
                          headers={**bearer(app, "customer"), "Accept-Language": "th"})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "wrong_handover_code"
    assert "handover_code" in refused.json["error"]["fields"]
    assert deliveries(app) == []
    for missing, field in (({"proof": "code"}, "handover_code"),
                           ({"proof": "signature"}, "signature"),
                           ({"proof": "stamp"}, "proof")):
        bad = client.post(f"/api/v1/orders/{ref}/delivery",
                          json={**RECEIVED, "receiver_name": "Nok", **missing},
                          headers=bearer(app, "customer"))
        assert bad.status_code == 422 and field in bad.json["error"]["fields"], bad.json
    no_name = client.post(f"/api/v1/orders/{ref}/delivery",
                          json={**RECEIVED, "proof": "code", "handover_code": "123456"},
                          headers=bearer(app, "customer"))
    assert "receiver_name" in no_name.json["error"]["fields"]
    assert deliveries(app) == []


@pytest.mark.parametrize("app", [COUNTED], indirect=True)
def test_guessing_the_code_locks_it_and_the_right_code_waits_too(app, world, client):
    ref = make_order(app, world)
    code = code_of(app, ref)
    wrong = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 8)]
    headers = bearer(app, "customer")
    answers = [client.post(f"/api/v1/orders/{ref}/delivery", headers=headers, json={
        **RECEIVED, "receiver_name": "Guesser", "proof": "code", "handover_code": guess,
    }).status_code for guess in wrong]
    assert answers[:5] == [422] * 5 and set(answers[5:]) == {429}
    locked = client.post(f"/api/v1/orders/{ref}/delivery", headers=headers, json={
        **RECEIVED, "receiver_name": "Nok", "proof": "code", "handover_code": code})
    assert locked.status_code == 429 and locked.json["error"]["code"] == "handover_code_locked"
    assert deliveries(app) == []
    # Another order's code is not locked; signing still works on this one.
    body, content_type = multipart({**RECEIVED, "receiver_name": "Nok", "proof": "signature"},
                                   [("signature", "s.png", signature_png())])
    signed = client.post(f"/api/v1/orders/{ref}/delivery", data=body, content_type=content_type,
                         headers=headers)
    assert signed.status_code == 201 and signed.json["proof"] == "signature"


@plain
def test_a_clerk_signs_through_the_tracking_link_and_everyone_on_the_order_sees_it(
        app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    token = create_link(client, ref)
    auth.logout()
    answer = sign(client, f"/t/{token}/receipt", png=signature_png(text="SecretAuthor"),
                  Accept="application/json")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    [row] = deliveries(app)
    assert row.proof == "signature" and row.receiver_name.startswith("Somchai")
    with app.app_context():
        attachment = db.session.get(Attachment, row.signature_id)
        assert attachment.mime == "image/jpeg" and attachment.width == 600
        stored = Path(app.config["UPLOAD_FOLDER"]) / attachment.storage_name
        assert b"SecretAuthor" not in stored.read_bytes()
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "signed" in page and "<script>alert" not in page and "&lt;script&gt;" in page
    src = re.search(r'class="signature-img" src="([^"]+)"', page).group(1)
    assert client.get(src).status_code == 200
    auth.login("producer")
    html = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Delivery confirmed by Somchai" in html
    assert client.get(f"/attachments/{row.signature_id}").status_code == 200
    assert "handover-code" not in html  # delivered: the code is not shown any more
    auth.logout()
    auth.login("other_producer")
    assert client.get(f"/attachments/{row.signature_id}").status_code == 404


@pytest.mark.parametrize("png, status", [
    (jpeg_with_gps(), 415),  # a photo renamed .png
    (b"<svg onload=alert(1)></svg>", 415),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, 415),  # a PNG's signature and nothing of a PNG
    (signature_png(size=(6000, 300)), 422),  # no signature pad is that shape
    (signature_png(size=(20, 20)), 422),
    (b"\x89PNG\r\n\x1a\n" + b"x" * (600 * 1024), 413),
])
@plain
def test_anything_but_a_signature_pad_drawing_is_refused_and_nothing_is_stored(
        app, world, client, auth, png, status):
    ref = make_order(app, world)
    auth.login("customer")
    token = create_link(client, ref)
    auth.logout()
    answer = sign(client, f"/t/{token}/receipt", png=png, Accept="application/json")
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert "signature" in answer.json["error"]["fields"]
    assert deliveries(app) == []


@plain
def test_a_replayed_signature_confirms_once(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    token = create_link(client, ref)
    auth.logout()
    first = sign(client, f"/t/{token}/receipt", Accept="application/json")
    again = sign(client, f"/t/{token}/receipt", Accept="application/json")
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"] and len(deliveries(app)) == 1
    other = sign(client, f"/t/{token}/receipt", key="sign-key-0002", Accept="application/json")
    assert other.status_code == 409 and len(deliveries(app)) == 1


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_tracking_link_writes_need_no_session_but_the_pages_still_do(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    token = create_link_with_csrf(client, auth, ref)
    auth.logout()
    # A replay after a browser restart: no session, no CSRF token; the link is the credential.
    client.delete_cookie("session")
    answer = sign(client, f"/t/{token}/receipt", Accept="application/json")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    auth.login("customer")
    refused = client.post(f"/orders/{ref}/updates/1/confirm", headers={"Accept": "application/json"})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf"


def create_link_with_csrf(client, auth, ref):
    token = auth.csrf(f"/orders/{ref}/links")
    response = client.post(f"/orders/{ref}/links", data={"contact_name": "Clerk", "days": "30",
                                                          "csrf_token": token})
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    url = re.search(r'value="(http[^"]+/t/[^"]+)"', response.get_data(as_text=True)).group(1)
    return url.split("/t/", 1)[1]


@plain
@pytest.mark.parametrize("same_key", [True, False])
def test_a_concurrent_double_post_confirms_once(app, world, client, auth, live_server, same_key):
    import requests

    ref = make_order(app, world)
    auth.login("customer")
    token = create_link(client, ref)
    auth.logout()
    results = []
    barrier = threading.Barrier(4)

    def send(n):
        key = "double-post-01" if same_key else f"double-post-0{n}"
        barrier.wait()
        r = requests.post(f"{live_server.url}/t/{token}/receipt",
                          data={**RECEIVED, "receiver_name": "Nok", "client_id": key},
                          files={"signature": ("s.png", signature_png(), "image/png")},
                          headers={"Accept": "application/json"}, timeout=60)
        results.append(r.status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(201) == (4 if same_key else 1), results
    assert set(results) <= {201, 409}
    with app.app_context():
        assert db.session.scalar(select(func.count(DeliveryConfirmation.id))) == 1


@plain
def test_the_code_may_be_typed_with_the_phones_own_digits(app, world):
    ref = make_order(app, world)
    with app.test_request_context():
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        order.handover_code = "123456"
        for typed in ("123456", "123 456", "๑๒๓๔๕๖", "១២៣៤៥៦", "໑໒໓໔໕໖", "၁၂၃၄၅၆"):
            handover.check_code(order, typed)  # no refusal
        with pytest.raises(Exception) as refused:
            handover.check_code(order, "๑๒๓๔๕๗")
        assert refused.value.status == 422


@plain
def test_a_receiver_name_typed_in_zawgyi_is_stored_as_unicode(app, world, client):
    from tests.test_text import ZAWGYI_UNICODE

    zawgyi, unicode = ZAWGYI_UNICODE[1]
    ref = make_order(app, world)
    body, content_type = multipart({**RECEIVED, "receiver_name": zawgyi[:60], "proof": "signature"},
                                   [("signature", "s.png", signature_png())])
    answer = client.post(f"/api/v1/orders/{ref}/delivery", data=body, content_type=content_type,
                         headers=bearer(app, "customer"))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    [row] = deliveries(app)
    assert row.receiver_name != zawgyi[:60] and row.receiver_name[:20] == unicode[:20]


@plain
def test_a_clerk_attaches_the_signed_delivery_note_with_the_signature_once(app, world, client, auth):
    """The delivery note signed on paper goes with the confirmation, as one of the order's
    papers (cleaned like every document), and a replay does not attach it twice."""
    from secgo.models import Document
    from tests.test_documents import hostile_pdf

    ref = make_order(app, world)
    auth.login("customer")
    token = create_link(client, ref)
    auth.logout()
    body, content_type = multipart(
        {**RECEIVED, "receiver_name": "Somchai", "proof": "signature", "client_id": "note-key-0001"},
        [("signature", "signature.png", signature_png()), ("document", "delivery-note.pdf", hostile_pdf())])
    for _ in range(2):
        answer = client.post(f"/t/{token}/receipt", data=body, content_type=content_type,
                             headers={"Accept": "application/json"})
        assert answer.status_code == 201
    with app.app_context():
        (doc,) = db.session.scalars(select(Document)).all()
        assert doc.doc_type == "delivery_note" and doc.uploaded_by_id is None and doc.mime == "application/pdf"
    auth.login("producer")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Signed delivery note" in page and len(deliveries(app)) == 1


@plain
def test_an_older_order_gets_its_code_on_the_producers_page_while_others_write(
        app, world, client, auth, monkeypatch):
    """An order made before handover codes gets one the first time the producer's page shows
    it, even when someone else writes while the page is read (SQLite refused that late write
    in the page's read transaction: the page answered 503)."""
    from secgo import readmarks

    ref = make_order(app, world)
    with app.app_context():
        db.session.execute(Order.__table__.update().where(Order.reference == ref).values(handover_code=None))
        db.session.commit()
    real_last_seen = readmarks.last_seen

    def with_a_write_in_between(*args):
        seen = real_last_seen(*args)
        with db.engine.connect() as other:
            other.execute(Order.__table__.update().where(Order.reference == ref).values(notes="meanwhile"))
            other.commit()
        return seen

    monkeypatch.setattr(readmarks, "last_seen", with_a_write_in_between)
    auth.login("producer")
    assert client.get(f"/orders/{ref}").status_code == 200
    code = code_of(app, ref)
    assert len(code) == 6 and f"{code[:3]}&#8201;{code[3:]}" in client.get(f"/orders/{ref}").get_data(as_text=True)


@plain
def test_an_older_orders_first_page_with_its_new_code_reads_its_history_in_the_same_queries_however_long(
        app, world, client, auth):
    """Making the code commits, which lets go of every row read before it: the page read the
    order's updates again one by one (a long history, a slow first page)."""
    from tests.test_orders import count_queries, post_update

    auth.login("producer")
    short, long = make_order(app, world, product="Short"), make_order(app, world, product="Long")
    for ref, steps in ((short, 1), (long, 12)):
        for i in range(steps):
            assert post_update(client, ref, "note", f"step {i}").status_code == 303
    with app.app_context():
        db.session.execute(Order.__table__.update().values(handover_code=None))
        db.session.commit()
    counts = [count_queries(app, client, f"/orders/{ref}") for ref in (short, long)]
    assert counts[0] == counts[1], counts
    assert all(len(code_of(app, ref)) == 6 for ref in (short, long))
