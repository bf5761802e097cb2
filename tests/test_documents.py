"""Documents per order: cleaned PDFs and photos of paper, served only to who may see the
order, exactly once through the outbox and the API; checklists per crossing."""
import io
import threading
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import func, select

from secgo.documents.sample import sample_pdf
from secgo.extensions import db
from secgo.models import AuditEvent, CrossingRequirement, Document, Order, StatusUpdate
from tests.live import live_server_fixture  # noqa: F401  (the live_server fixture)
from tests.test_orders import NO_CSRF, make_order
from tests.test_photos import multipart

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)
JSON = {"Accept": "application/json"}


def hostile_pdf() -> bytes:
    """A PDF that runs JavaScript on opening, on a page and from a link, launches a program,
    carries an embedded file and a form."""
    pdf = pikepdf.open(io.BytesIO(sample_pdf(["PACKING LIST"])))
    js = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')"))
    pdf.Root.OpenAction = js
    pdf.Root.AA = pikepdf.Dictionary(WC=js)
    embedded = pdf.make_stream(b"MZ evil program")
    embedded.Type = pikepdf.Name.EmbeddedFile
    spec = pikepdf.Dictionary(Type=pikepdf.Name.Filespec, F=pikepdf.String("evil.exe"),
                              EF=pikepdf.Dictionary(F=embedded))
    pdf.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=[pikepdf.String("a"), pdf.make_indirect(js)]),
        EmbeddedFiles=pikepdf.Dictionary(Names=[pikepdf.String("evil.exe"), spec]))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[], XFA=pdf.make_stream(b"<xdp/>"))
    page = pdf.pages[0].obj
    page.AA = pikepdf.Dictionary(O=js)
    launch = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))
    page.Annots = pdf.make_indirect(pikepdf.Array([
        pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                           Rect=[0, 0, 100, 100], A=launch),
        pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment,
                           Rect=[0, 0, 10, 10], FS=spec),
        pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Square,
                           Rect=[10, 10, 50, 50]),
    ]))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def encrypted_pdf(user="") -> bytes:
    pdf = pikepdf.open(io.BytesIO(sample_pdf()))
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="owner-secret", user=user))
    return out.getvalue()


def jpeg(size=(800, 1100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (250, 250, 245)).save(out, "JPEG")
    return out.getvalue()


def upload(client, ref, content, doc_type="commercial_invoice", name="invoice.pdf",
           client_id=None, **headers):
    fields = {"doc_type": doc_type}
    if client_id:
        fields["client_id"] = client_id
    body, content_type = multipart(fields, [("document", name, content)])
    return client.post(f"/orders/{ref}/documents", data=body, content_type=content_type,
                       headers=headers)


def stored(app):
    with app.app_context():
        return db.session.scalars(select(Document).order_by(Document.id)).all()


def document_files(app):
    folder = Path(app.config["UPLOAD_FOLDER"]) / "documents"
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def all_keys(pdf):
    keys = set(pdf.Root.keys()) | set(pdf.trailer.keys())
    for obj in pdf.objects:
        target = obj.stream_dict if isinstance(obj, pikepdf.Stream) else obj
        if isinstance(target, pikepdf.Dictionary):
            keys |= set(target.keys())
            if "/S" in target:
                keys.add(f"S={target.S}")
            if "/Subtype" in target:
                keys.add(f"Subtype={target.Subtype}")
    return keys


def test_a_pdf_is_stored_served_privately_with_a_thumbnail(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = upload(client, ref, sample_pdf(["COMMERCIAL INVOICE"], pages=2))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/orders/{ref}#documents")
    [doc] = stored(app)
    assert (doc.doc_type, doc.mime, doc.pages) == ("commercial_invoice", "application/pdf", 2)
    served = client.get(f"/orders/{ref}/documents/{doc.id}")
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert served.data.startswith(b"%PDF-")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"].startswith("sandbox")
    assert served.headers["Content-Disposition"].startswith("inline;")
    assert served.headers["Cache-Control"].startswith("private")
    assert client.get(f"/orders/{ref}/documents/{doc.id}?download=1") \
        .headers["Content-Disposition"].startswith("attachment;")
    thumb = client.get(f"/orders/{ref}/documents/{doc.id}/thumb")
    assert thumb.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.data)).size[0] <= 240
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Commercial invoice" in page and "PDF, 2 pages" in page and "Document attached" in page


def test_a_pdf_with_javascript_embedded_files_forms_and_launch_is_stored_without_them(
        app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    assert upload(client, ref, hostile_pdf(), doc_type="packing_list").status_code == 303
    [doc] = stored(app)
    data = client.get(f"/orders/{ref}/documents/{doc.id}").data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        keys = all_keys(pdf)
        assert len(pdf.pages) == 1
        assert "/Annots" in pdf.pages[0].obj  # the harmless square stays
        assert len(pdf.pages[0].obj.Annots) == 1
    for bad in ("/OpenAction", "/AA", "/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/AcroForm",
                "/XFA", "/A", "S=/Launch", "S=/JavaScript", "Subtype=/FileAttachment", "/Info"):
        assert bad not in keys, bad
    assert b"evil program" not in data and b"cmd.exe" not in data


@pytest.mark.parametrize("content,status,words", [
    (encrypted_pdf(), 422, "password"),  # opens without a password, still encrypted: refused
    (encrypted_pdf(user="user-secret"), 422, "password"),
    (b"%PDF-1.7\n garbage that is no PDF at all \n%%EOF", 422, "cannot be read"),
    (b"<html><script>alert(1)</script></html>", 415, "Only a PDF"),
    # A polyglot: something else first, a PDF after it (readers look for %PDF- in 1 KB).
    (b"<html><!--" + b" " * 10 + sample_pdf(), 415, "Only a PDF"),
    (b"", 422, "empty"),
])
def test_a_hostile_file_is_refused_clearly_and_nothing_is_stored(app, world, client, auth, content,
                                                                 status, words):
    ref = make_order(app, world)
    auth.login("producer")
    response = upload(client, ref, content, **JSON)
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["error"]["fields"]["document"]
    assert stored(app) == [] and document_files(app) == []
    page = upload(client, ref, content)  # a plain form: the order page again, with the message
    assert page.status_code == status and words in page.get_data(as_text=True)
    assert stored(app) == []


def test_an_encrypted_pdf_is_refused_in_the_readers_language(app, world, client, auth):
    from secgo.models import User

    ref = make_order(app, world)
    with app.app_context():
        db.session.get(User, world.users["producer"]).locale = "th"
        db.session.commit()
    auth.login("producer")
    response = upload(client, ref, encrypted_pdf(), **JSON)
    message = response.get_json()["error"]["fields"]["document"]
    assert response.status_code == 422 and "password" not in message


def test_eleven_megabytes_is_too_big(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    big = sample_pdf() + b"%" + b"x" * (11 * 1024 * 1024)
    response = upload(client, ref, big, **JSON)
    assert response.status_code == 413
    assert stored(app) == []


def test_too_many_pages_are_refused(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = upload(client, ref, sample_pdf(pages=51), **JSON)
    assert response.status_code == 422 and "50 pages" in response.get_json()["error"]["message"] \
        + str(response.get_json()["error"]["fields"])


def test_a_photo_of_paper_and_heic_are_reencoded_as_jpeg(app, world, client, auth):
    import pillow_heif

    ref = make_order(app, world)
    auth.login("customer")
    assert upload(client, ref, jpeg(), doc_type="phytosanitary", name="p.jpg").status_code == 303
    heif = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (640, 480), (200, 200, 190))).save(heif, quality=60)
    assert upload(client, ref, heif.getvalue(), doc_type="fumigation", name="f.heic").status_code == 303
    docs = stored(app)
    assert [d.mime for d in docs] == ["image/jpeg", "image/jpeg"]
    served = client.get(f"/orders/{ref}/documents/{docs[1].id}")
    assert Image.open(io.BytesIO(served.data)).format == "JPEG"
    assert served.headers["Content-Disposition"].startswith("attachment;")


def test_a_wrong_type_or_someone_elses_order_is_refused(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = upload(client, ref, sample_pdf(), doc_type="<script>", **JSON)
    assert response.status_code == 422 and "doc_type" in response.get_json()["error"]["fields"]
    auth.logout()
    auth.login("other_producer")
    assert upload(client, ref, sample_pdf(), **JSON).status_code == 404
    assert stored(app) == []
    auth.logout()
    auth.login("producer")
    assert upload(client, ref, sample_pdf()).status_code == 303
    [doc] = stored(app)
    auth.logout()
    auth.login("other_customer")
    assert client.get(f"/orders/{ref}/documents/{doc.id}").status_code == 404
    assert client.get(f"/orders/{ref}/documents/{doc.id}/thumb").status_code == 404


def test_the_same_client_id_twice_stores_one_document(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    first = upload(client, ref, sample_pdf(), client_id="doc-once-0001", **JSON)
    again = upload(client, ref, sample_pdf(), client_id="doc-once-0001", **JSON)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    # The same paper under a new id (sent from a second phone) is the one already there.
    other = upload(client, ref, sample_pdf(), client_id="doc-once-0002", **JSON)
    assert other.get_json()["id"] == first.get_json()["id"]
    assert len(stored(app)) == 1


def test_the_uploader_removes_their_own_document_once_and_it_is_audited(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    upload(client, ref, sample_pdf())
    [doc] = stored(app)
    auth.logout()
    auth.login("customer")
    assert client.post(f"/orders/{ref}/documents/{doc.id}/remove", headers=JSON).status_code == 403
    auth.logout()
    auth.login("producer")
    for _ in range(2):
        response = client.post(f"/orders/{ref}/documents/{doc.id}/remove", headers=JSON)
        assert response.status_code == 200 and response.get_json()["removed"] is True
    assert client.get(f"/orders/{ref}/documents/{doc.id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "document_removed")) == 1
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Removed" in page and "No documents yet." in page


# --- checklists ----------------------------------------------------------------------------

def set_checklist(client, crossing, types, product=""):
    body, content_type = multipart(
        [("crossing", crossing), ("product", product), *[("doc_types", t) for t in types]], [])
    return client.post("/coordinator/checklists", data=body, content_type=content_type)


def test_a_coordinator_sets_a_checklist_and_the_order_page_ticks_it(app, world, client, auth):
    ref = make_order(app, world, product="Keo Romeat mango", border_crossing="mae_sot_myawaddy")
    auth.login("producer")
    assert client.get("/coordinator/checklists").status_code == 403
    auth.logout()
    auth.login("coordinator")
    assert set_checklist(client, "mae_sot_myawaddy",
                         ["commercial_invoice", "packing_list"]).status_code == 303
    assert set_checklist(client, "mae_sot_myawaddy", ["phytosanitary"], "mango").status_code == 303
    assert set_checklist(client, "mae_sot_myawaddy", ["fumigation"], "furniture").status_code == 303
    page = client.get("/coordinator/checklists").get_data(as_text=True)
    assert "Phytosanitary certificate" in page and "mango" in page
    bad = set_checklist(client, "nowhere", ["bogus"])
    assert bad.status_code == 422
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        assert order.missing_documents == "commercial_invoice,packing_list,phytosanitary"
    auth.logout()
    auth.login("producer")
    upload(client, ref, sample_pdf())
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert page.count("doc-ok") == 1 and page.count("doc-missing") == 2
    assert "Fumigation certificate</span>" not in page  # furniture only
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        assert order.missing_documents == "packing_list,phytosanitary"


def test_dispatching_with_papers_missing_asks_once_on_a_page_and_warns_scripts(app, world, client,
                                                                             auth):
    ref = make_order(app, world, product="Jasmine rice", border_crossing="aranyaprathet_poipet")
    with app.app_context():
        from secgo.documents.services import refresh_crossing

        db.session.add(CrossingRequirement(crossing="aranyaprathet_poipet", product="",
                                           doc_type="commercial_invoice"))
        refresh_crossing("aranyaprathet_poipet")
        db.session.commit()
    auth.login("producer")
    asked = client.post(f"/orders/{ref}/updates", data={"status": "dispatched"})
    assert asked.status_code == 422
    assert "Send anyway?" in asked.get_data(as_text=True)
    assert 'name="send_anyway" value="1"' in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StatusUpdate)) == 0
    sent = client.post(f"/orders/{ref}/updates", data={"status": "dispatched", "send_anyway": "1"})
    assert sent.status_code == 303
    # The outbox (JSON) and the API: stored at once, the missing papers in the answer.
    scripted = client.post(f"/orders/{ref}/updates", data={"status": "at_border"}, headers=JSON)
    assert scripted.status_code == 201
    assert scripted.get_json()["missing_documents"] == ["commercial_invoice"]
    assert "Commercial invoice" in scripted.get_json()["warning"]
    auth.logout()
    auth.login("coordinator")
    dashboard = client.get("/coordinator").get_data(as_text=True)
    assert ref in dashboard.split('id="papers"')[1].split("</section>")[0]


def test_concurrent_double_post_of_one_queued_document_stores_one(app, world, live_server):
    import requests

    from tests.test_api_orders import token_for

    ref = make_order(app, world)
    headers = {**token_for(app, "producer"), "Idempotency-Key": "concurrent-doc-01"}
    pdf = sample_pdf(["CERTIFICATE OF ORIGIN", "FORM D"])
    answers = []
    barrier = threading.Barrier(4)

    def send():
        barrier.wait()
        answers.append(requests.post(
            f"{live_server.url}/api/v1/orders/{ref}/documents", headers=headers, timeout=60,
            data={"doc_type": "certificate_of_origin"},
            files={"file": ("formd.pdf", pdf, "application/pdf")}))

    threads = [threading.Thread(target=send) for _i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(stored(app)) == 1


# --- API v1 --------------------------------------------------------------------------------

def test_api_lists_uploads_reads_and_removes_documents_and_sets_a_checklist(app, world, client):
    from tests.test_api_orders import token_for

    ref = make_order(app, world, product="Nam Dok Mai mango", border_crossing="mae_sot_myawaddy")
    producer = token_for(app, "producer")
    coordinator = token_for(app, "coordinator")
    read = client.get("/api/v1/crossings/mae_sot_myawaddy/checklist", headers=producer)
    assert read.status_code == 200 and read.get_json()["checklist"] == {}
    assert client.put("/api/v1/crossings/mae_sot_myawaddy/checklist", headers=producer,
                      json={"doc_types": ["packing_list"]}).status_code == 403
    assert client.put("/api/v1/crossings/nowhere/checklist", headers=coordinator,
                      json={"doc_types": ["packing_list"]}).status_code == 404
    bad = client.put("/api/v1/crossings/mae_sot_myawaddy/checklist", headers=coordinator,
                     json={"doc_types": ["packing_list", 7]})
    assert bad.status_code == 422 and "doc_types" in bad.get_json()["error"]["fields"]
    saved = client.put("/api/v1/crossings/mae_sot_myawaddy/checklist", headers=coordinator,
                       json={"doc_types": ["phytosanitary", "packing_list"], "product": "mango"})
    assert saved.status_code == 200
    assert saved.get_json()["checklist"] == {"mango": ["packing_list", "phytosanitary"]}

    body, content_type = multipart({"doc_type": "packing_list"},
                                   [("file", "list.pdf", sample_pdf(["PACKING LIST"]))])
    created = client.post(f"/api/v1/orders/{ref}/documents", data=body, content_type=content_type,
                          headers={**producer, "Idempotency-Key": "api-doc-0001"})
    assert created.status_code == 201, created.get_json()
    doc = created.get_json()
    assert doc["doc_type"] == "packing_list" and doc["mime"] == "application/pdf"
    assert client.post(f"/api/v1/orders/{ref}/documents", json={"doc_type": "packing_list"},
                       headers=producer).status_code == 415
    listed = client.get(f"/api/v1/orders/{ref}/documents", headers=producer).get_json()
    assert [d["id"] for d in listed["items"]] == [doc["id"]]
    assert listed["missing"] == ["phytosanitary"]
    assert {c["doc_type"]: c["present"] for c in listed["checklist"]} == {
        "packing_list": True, "phytosanitary": False}
    file = client.get(f"/api/v1/orders/{ref}/documents/{doc['id']}", headers=producer)
    assert file.status_code == 200 and file.data.startswith(b"%PDF-")
    gone = client.delete(f"/api/v1/orders/{ref}/documents/{doc['id']}", headers=producer)
    assert gone.status_code == 200 and gone.get_json()["removed"] is True
    assert client.get(f"/api/v1/orders/{ref}/documents", headers=producer).get_json()["items"] == []
    assert client.get(f"/api/v1/orders/{ref}/documents",
                      headers=token_for(app, "other_customer")).status_code == 404


def test_api_dispatch_with_papers_missing_is_stored_with_a_warning(app, world, client):
    from tests.test_api_orders import token_for

    ref = make_order(app, world, border_crossing="mae_sot_myawaddy")
    coordinator = token_for(app, "coordinator")
    client.put("/api/v1/crossings/mae_sot_myawaddy/checklist", headers=coordinator,
               json={"doc_types": ["commercial_invoice"]})
    producer = token_for(app, "producer")
    answer = client.post(f"/api/v1/orders/{ref}/updates", json={"status": "dispatched"},
                         headers=producer)
    assert answer.status_code == 201
    assert answer.get_json()["missing_documents"] == ["commercial_invoice"]
    ready = client.post(f"/api/v1/orders/{ref}/updates", json={"status": "note", "note": "ok"},
                        headers=producer)
    assert "missing_documents" not in ready.get_json()


def test_damaged_pdfs_and_pictures_are_refused_never_a_crash(app):
    """Bytes flipped and files cut short: each is cleaned or refused (a 4xx), never a 500."""
    import random

    from secgo.documents.services import clean_document
    from secgo.errors import ApiError

    rng = random.Random(11)
    bases = [sample_pdf(["X"], pages=3), hostile_pdf(), encrypted_pdf(), jpeg((64, 48))]
    refused = 0
    with app.test_request_context():
        for _ in range(150):
            data = bytearray(rng.choice(bases))
            for _flip in range(rng.randint(1, 30)):
                data[rng.randrange(5, len(data))] = rng.randrange(256)
            if rng.random() < 0.3:
                data = data[:rng.randrange(6, len(data))]
            try:
                clean_document(bytes(data))
            except ApiError as err:
                assert 400 <= err.status < 500
                refused += 1
    assert refused
