"""Photos: checked by content, cleaned of metadata, limited, and shown only to who may see them."""
import io

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from secgo.extensions import db
from secgo.models import Attachment, StatusUpdate
from tests.test_orders import NO_CSRF, make_order

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)


def jpeg_with_gps(size=(640, 480)) -> bytes:
    """A JPEG carrying EXIF with a GPS position and a camera model."""
    img = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x0110] = "SecretPhone 9"  # Model
    exif[0x8825] = {1: "N", 2: (11.0, 33.0, 0.0), 3: "E", 4: (104.0, 55.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert b"SecretPhone" in data
    return data


def png(size=(64, 64), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (0, 100, 200, 128) if mode == "RGBA" else 0).save(out, "PNG")
    return out.getvalue()


def multipart(fields, files):
    """Encode a multipart body in memory (the test client would spool big ones to a temp file)."""
    data = MultiDict(fields)
    for name, filename, content in files:
        data.add(name, FileStorage(io.BytesIO(content), filename=filename))
    boundary, body = encode_multipart(data)
    return body, f"multipart/form-data; boundary={boundary}"


def post_with_photos(client, ref, files, status="ready", **headers):
    body, content_type = multipart({"status": status, "note": "with photos"},
                                   [("photos", name, content) for name, content in files])
    return client.post(f"/orders/{ref}/updates", data=body, content_type=content_type,
                       headers=headers)


def test_photo_is_reencoded_without_gps_or_camera_metadata(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = post_with_photos(client, ref, [("field.jpg", jpeg_with_gps())])
    assert response.status_code == 303
    with app.app_context():
        photo = db.session.scalar(select(Attachment))
        photo_id = photo.id
    served = client.get(f"/attachments/{photo_id}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    body = served.get_data()
    assert b"SecretPhone" not in body and b"Exif" not in body
    assert not Image.open(io.BytesIO(body)).getexif()
    assert client.get(f"/attachments/{photo_id}/thumb").status_code == 200
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert f'/attachments/{photo_id}/thumb' in page and f'href="/attachments/{photo_id}"' in page


def test_photos_are_stored_by_content_hash_under_the_upload_folder(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_with_photos(client, ref, [("a.png", png())])
    with app.app_context():
        photo = db.session.scalar(select(Attachment))
        from pathlib import Path

        path = Path(app.config["UPLOAD_FOLDER"]) / photo.storage_name
        assert path.exists() and photo.sha256 in path.name and photo.mime == "image/jpeg"


def test_only_people_who_may_see_the_order_see_its_photos(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_with_photos(client, ref, [("a.jpg", jpeg_with_gps())])
    with app.app_context():
        photo_id = db.session.scalar(select(Attachment.id))
    auth.logout()
    for role, expected in (("customer", 200), ("coordinator", 200), ("other_producer", 404),
                           ("other_customer", 404), ("other_coordinator", 404)):
        auth.login(role)
        assert client.get(f"/attachments/{photo_id}").status_code == expected, role
        auth.logout()
    assert client.get(f"/attachments/{photo_id}").status_code == 302


def test_a_pdf_renamed_jpg_is_refused_and_nothing_is_saved(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    response = post_with_photos(client, ref, [("invoice.jpg", pdf)])
    assert response.status_code == 415
    assert "Only photos" in response.get_data(as_text=True)
    as_json = post_with_photos(client, ref, [("invoice.jpg", pdf)], Accept="application/json")
    assert as_json.status_code == 415 and as_json.json["error"]["fields"]["photos"]
    with app.app_context():
        assert db.session.scalar(select(StatusUpdate.id)) is None
        assert db.session.scalar(select(Attachment.id)) is None


def test_a_30_mb_upload_is_refused_with_413_and_nothing_is_saved(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    big = b"\xff\xd8\xff" + b"0" * (30 * 1024 * 1024)
    response = post_with_photos(client, ref, [("big.jpg", big)], Accept="application/json")
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
    page = post_with_photos(client, ref, [("big.jpg", big)])
    assert page.status_code == 413 and "<html" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(StatusUpdate.id)) is None


def test_a_decompression_bomb_is_refused(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    bomb = png(size=(12000, 12000), mode="1")  # 144 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    response = post_with_photos(client, ref, [("bomb.png", bomb)], Accept="application/json")
    assert response.status_code == 422
    assert "too many pixels" in response.json["error"]["message"]


def test_too_many_photos_are_refused(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    files = [(f"p{i}.png", png(size=(8 + i, 8))) for i in range(7)]
    response = post_with_photos(client, ref, files, Accept="application/json")
    assert response.status_code == 422 and "At most 6 photos" in response.json["error"]["message"]


def test_an_order_page_shows_each_photo_once_and_reads_them_with_their_updates(app, world, client, auth):
    """Photos come in the same statement as the updates they belong to (one row per photo,
    each update once): an order with photos costs no more statements than one without."""
    from sqlalchemy import event

    plain, pictured = make_order(app, world, product="Plain"), make_order(app, world, product="Pictured")
    auth.login("producer")
    assert post_with_photos(client, plain, []).status_code == 303
    assert post_with_photos(client, pictured, [("a.jpg", jpeg_with_gps((640, 480))),
                                               ("b.jpg", jpeg_with_gps((480, 640)))]).status_code == 303
    assert post_with_photos(client, pictured, [("c.jpg", jpeg_with_gps((600, 400)))],
                            status="note").status_code == 303
    with app.app_context():
        photo_ids = db.session.scalars(select(Attachment.id)).all()
        engine = db.engine
    statements = {plain: [], pictured: []}
    pages = {}
    for ref, seen in statements.items():
        def listener(conn, cursor, statement, *args, seen=seen):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", listener)
        try:
            pages[ref] = client.get(f"/orders/{ref}").get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    assert len(photo_ids) == 3
    assert all(pages[pictured].count(f"/attachments/{i}/thumb") == 1 for i in photo_ids)
    assert pages[pictured].count("with photos") == 2 and "/thumb" not in pages[plain]
    assert len(statements[plain]) == len(statements[pictured])
    assert not [s for s in statements[pictured] if s.lstrip().startswith("SELECT update_photos")]
