"""The data saver: a report goes with small photo previews, the full photo follows once."""
import io
import random
import uuid

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from secgo.attachments.services import storage_path
from secgo.extensions import db
from secgo.models import Attachment, IdempotencyKey, Organization, StatusUpdate, User
from tests.test_orders import NO_CSRF, make_order
from tests.test_photos import multipart

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)


def scene(seed=0, size=(1600, 1200)) -> Image.Image:
    """A photo-like picture: sky, a field with stones, a truck and a packing list."""
    rnd = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, (90, 130, 60))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, w, h * 0.35], fill=(120, 160, 215))
    for _ in range(120):
        x, y, r = rnd.randrange(w), rnd.randrange(int(h * 0.35), h), rnd.randrange(4, 30)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(rnd.randrange(30, 200), rnd.randrange(60, 200), 40))
    x0 = rnd.randrange(50, w // 3)
    draw.rectangle([x0, h * 0.3, x0 + w * 0.4, h * 0.65], fill=(200, 40, 40))
    draw.rectangle([w * 0.62, h * 0.4, w * 0.95, h * 0.93], fill=(245, 245, 240))
    for i in range(12):
        draw.text((w * 0.64, h * 0.43 + i * 30), f"{i + 1:2d} Jasmine rice 25 kg bag {rnd.randrange(9999)}",
                  fill=(10, 10, 10))
    return img


def jpeg(img: Image.Image, side=None, quality=85) -> bytes:
    img = img.copy()
    if side:
        img.thumbnail((side, side))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


FULL = jpeg(scene(0))
PREVIEW = jpeg(scene(0), side=800, quality=55)
OTHER = jpeg(scene(1).transpose(Image.Transpose.FLIP_LEFT_RIGHT))  # another photo, the same size


def test_the_pictures_are_what_the_tests_say(app):
    assert len(PREVIEW) <= 60 * 1024 < len(FULL)


def send_update(client, ref, files, keys, key=None, note="with a preview"):
    fields = [("status", "ready"), ("note", note)] + [("preview_keys", k) for k in keys]
    body, content_type = multipart(fields, [("photos", name, data) for name, data in files])
    headers = {"Accept": "application/json", "Idempotency-Key": key or str(uuid.uuid4())}
    return client.post(f"/orders/{ref}/updates", data=body, content_type=content_type, headers=headers)


def send_full(client, photo_key, data, key=None, api=False):
    body, content_type = multipart([], [("photo", "full.jpg", data)])
    headers = {"Accept": "application/json", "Idempotency-Key": key or str(uuid.uuid4())}
    prefix = "/api/v1" if api else ""
    return client.post(f"{prefix}/photos/{photo_key}/full", data=body, content_type=content_type,
                       headers=headers)


def the_photo(app):
    with app.app_context():
        row = db.session.scalar(select(Attachment).order_by(Attachment.id.desc()))
        db.session.expunge(row)
        return row


def versions(app):
    with app.app_context():
        return db.session.scalar(select(func.sum(Organization.data_version)))


@pytest.fixture
def previewed(app, world, client, auth):
    """An order with an update whose one photo went as a preview; (ref, photo key, photo)."""
    ref = make_order(app, world)
    auth.login("producer")
    photo_key = str(uuid.uuid4())
    response = send_update(client, ref, [("p.jpg", PREVIEW)], [photo_key])
    assert response.status_code == 201, response.get_json()
    return ref, photo_key, the_photo(app)


def test_a_preview_is_stored_marked_and_the_order_page_says_the_full_photo_follows(app, client, previewed):
    ref, photo_key, photo = previewed
    assert photo.preview and photo.photo_key == photo_key and photo.size <= 60 * 1024
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Small preview (" in page and "the full photo follows" in page
    assert f'data-send-full="{photo_key}"' in page  # the sender's phone may send it now
    served = client.get(f"/attachments/{photo.id}")
    assert served.headers["Cache-Control"] == "private, no-cache"  # the full one may come any time
    api = client.get(f"/api/v1/orders/{ref}").get_json()
    assert api["updates"][0]["photos"][0]["preview"] is True


def test_the_full_photo_replaces_the_preview_and_every_page_shows_it_at_once(app, client, previewed):
    ref, photo_key, photo = previewed
    before = versions(app)
    response = send_full(client, photo_key, FULL)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["preview"] is False
    after = the_photo(app)
    assert after.id == photo.id and not after.preview and after.width == 1600
    assert after.sha256 != photo.sha256 and after.size > photo.size
    assert versions(app) > before  # the page caches see it at once
    served = client.get(f"/attachments/{photo.id}")
    assert Image.open(io.BytesIO(served.get_data())).size == (1600, 1200)
    assert served.headers["Cache-Control"] == "private, max-age=86400"
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Small preview (" not in page
    with app.app_context():  # the preview's files are gone, the full photo's are there
        assert not storage_path(photo).exists() and not storage_path(photo, thumb=True).exists()
        assert storage_path(after).exists() and storage_path(after, thumb=True).exists()


def test_sending_the_full_photo_again_with_its_key_gives_the_first_answer(app, client, previewed):
    _ref, photo_key, _photo = previewed
    key = str(uuid.uuid4())
    first = send_full(client, photo_key, FULL, key=key)
    again = send_full(client, photo_key, FULL, key=key)
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    other_try = send_full(client, photo_key, FULL)  # a new key: only once per preview
    assert other_try.status_code == 409


def test_a_different_picture_is_refused_and_changes_nothing(app, client, previewed):
    _ref, photo_key, photo = previewed
    before = versions(app)
    response = send_full(client, photo_key, OTHER)
    assert response.status_code == 422
    assert "not the same picture" in response.get_json()["error"]["message"]
    after = the_photo(app)
    assert after.preview and after.sha256 == photo.sha256 and versions(app) == before
    with app.app_context():  # the preview is still served
        assert storage_path(photo).exists() and storage_path(photo, thumb=True).exists()
    small = send_full(client, photo_key, jpeg(scene(0), side=320))
    assert small.status_code == 422  # smaller than its preview: not the full photo
    assert send_full(client, photo_key, FULL).status_code == 200  # then the right one goes


def test_someone_else_cannot_send_the_full_photo(app, client, auth, previewed):
    _ref, photo_key, _photo = previewed
    auth.logout()
    for who in ("customer", "coordinator", "admin", "other_producer"):
        auth.login(who)
        assert send_full(client, photo_key, FULL).status_code == 404
        assert send_full(client, photo_key, FULL, api=True).status_code == 404
        auth.logout()
    assert the_photo(app).preview
    assert send_full(client, photo_key, FULL).status_code in (302, 401)  # signed out


@pytest.mark.parametrize("data,status", [
    (b"", 422), (b"GIF89a not really", 415), (b"\xff\xd8\xff" + b"0" * 1000, 415),
    (b"x" * (10 * 1024 * 1024 + 10), 413)])
def test_a_fake_empty_or_huge_full_photo_is_refused_and_changes_nothing(app, client, previewed, data, status):
    _ref, photo_key, photo = previewed
    response = send_full(client, photo_key, data)
    assert response.status_code == status
    assert the_photo(app).sha256 == photo.sha256 and the_photo(app).preview


def test_a_bad_photo_key_is_not_found(client, previewed):
    for bad in ("nope", "1" * 36, "<script>", str(uuid.uuid4())):
        assert send_full(client, bad, FULL).status_code == 404


def test_a_report_whose_preview_keys_do_not_match_its_photos_is_refused_whole(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    k = str(uuid.uuid4())
    for files, keys in (([("p.jpg", PREVIEW)], [k, k]), ([("p.jpg", PREVIEW)], ["not-a-uuid"]),
                        ([("p.jpg", PREVIEW), ("q.jpg", PREVIEW)], [k, k])):
        response = send_update(client, ref, files, keys)
        assert response.status_code == 422 and "preview_keys" in response.get_json()["error"]["fields"]
    huge = send_update(client, ref, [("p.jpg", FULL)], [k])  # a "preview" of 100+ KB
    assert huge.status_code == 413
    with app.app_context():
        assert db.session.scalar(select(func.count(StatusUpdate.id))) == 0
        assert db.session.scalar(select(func.count(Attachment.id))) == 0
        assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 0


def test_a_mix_of_a_preview_and_a_full_photo_marks_only_the_preview(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = send_update(client, ref, [("p.jpg", PREVIEW), ("f.jpg", FULL)], [str(uuid.uuid4()), ""])
    assert response.status_code == 201
    with app.app_context():
        marks = db.session.scalars(select(Attachment.preview).order_by(Attachment.id)).all()
    assert marks == [True, False]


def test_parties_ask_for_the_full_photo_and_the_sender_outbox_learns_it(app, client, auth, previewed):
    ref, photo_key, photo = previewed
    assert client.get(f"/photos/wanted?keys={photo_key}").get_json() == {"wanted": []}
    auth.logout()
    auth.login("customer")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Ask for the full photo" in page and "data-send-full" not in page
    key = str(uuid.uuid4())
    first = client.post(f"/attachments/{photo.id}/want", headers={"Accept": "application/json", "Idempotency-Key": key})
    again = client.post(f"/attachments/{photo.id}/want", headers={"Accept": "application/json", "Idempotency-Key": key})
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    assert first.get_json()["wanted"] is True
    assert "The full photo was asked for" in client.get(f"/orders/{ref}").get_data(as_text=True)
    # a plain form (no script) goes back to the order page
    plain = client.post(f"/attachments/{photo.id}/want")
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/orders/{ref}")
    # only the uploader learns which previews are wanted
    assert client.get(f"/photos/wanted?keys={photo_key}").get_json() == {"wanted": []}
    auth.logout()
    auth.login("producer")
    assert client.get(f"/photos/wanted?keys={photo_key},junk").get_json() == {"wanted": [photo_key]}
    assert client.get(f"/api/v1/photos/wanted?keys={photo_key}").get_json() == {"wanted": [photo_key]}
    assert send_full(client, photo_key, FULL).status_code == 200
    assert client.get(f"/photos/wanted?keys={photo_key}").get_json() == {"wanted": []}


def test_only_parties_of_the_order_may_ask_for_the_full_photo(app, client, auth, previewed):
    _ref, _photo_key, photo = previewed
    auth.logout()
    for who in ("other_customer", "other_producer", "other_coordinator"):
        auth.login(who)
        response = client.post(f"/attachments/{photo.id}/want", headers={"Accept": "application/json"})
        assert response.status_code == 404
        api = client.post(f"/api/v1/attachments/{photo.id}/want")
        assert api.status_code == 404
        auth.logout()
    assert the_photo(app).wanted_at is None
    auth.login("coordinator")  # the producer's own coordinator sees the order
    assert client.post(f"/attachments/{photo.id}/want", headers={"Accept": "application/json"}).status_code == 200
    assert client.post("/attachments/999999/want", headers={"Accept": "application/json"}).status_code == 404


def test_the_saver_setting_is_kept_and_rendered_for_the_script(app, world, client, auth):
    auth.login("producer")
    page = client.get("/settings").get_data(as_text=True)
    assert "Data saver" in page and "data-saver" not in page.split("<body", 1)[1].split(">", 1)[0]
    response = client.post("/settings", data={"action": "saver", "data_saver": "on"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, world.users["producer"]).data_saver is True
    body = client.get("/orders").get_data(as_text=True).split("<body", 1)[1].split(">", 1)[0]
    assert "data-saver" in body
    client.post("/settings", data={"action": "saver"})
    body = client.get("/orders").get_data(as_text=True).split("<body", 1)[1].split(">", 1)[0]
    assert "data-saver" not in body


def test_the_browser_asking_to_save_data_turns_the_saver_on(app, world, client, auth):
    auth.login("producer")
    plain = client.get("/orders").get_data(as_text=True).split("<body", 1)[1].split(">", 1)[0]
    asked = client.get("/orders", headers={"Save-Data": "on"}).get_data(as_text=True)
    assert "data-saver" not in plain and "data-saver" in asked.split("<body", 1)[1].split(">", 1)[0]
    page = client.get("/settings", headers={"Save-Data": "on"}).get_data(as_text=True)
    assert "Your browser asks to save data" in page
