"""Voice notes: real recordings from Chrome (WebM/Opus) and Safari (MP4/AAC) are stored as one
format both play, without metadata, with their duration; hostile files change nothing; only
those who may see the order hear them."""
import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import Attachment, DeliveryConfirmation, Issue, IssueComment, StatusUpdate, User
from tests.audio import probe, tone
from tests.test_api_orders import token_for
from tests.test_orders import NO_CSRF, make_order
from tests.test_photos import multipart

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)

# What an MP4 file says about its own structure; anything else would be a tag we kept.
STRUCTURE = {"major_brand", "minor_version", "compatible_brands", "language", "handler_name"}
CHROME = {"container": "webm", "codec": "libopus"}
SAFARI = {"container": "mp4", "codec": "aac"}


def post_update(client, ref, voice, name="voice.webm", status="ready", note="", **headers):
    body, content_type = multipart({"status": status, "note": note}, [("voice", name, voice)])
    return client.post(f"/orders/{ref}/updates", data=body, content_type=content_type,
                       headers=headers)


def counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count(StatusUpdate.id))),
                db.session.scalar(select(func.count(Attachment.id))))


def stored_files(app):
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def the_voice(app):
    with app.app_context():
        row = db.session.scalar(select(Attachment).where(Attachment.mime == "audio/mp4"))
        return row.id, row.duration_ms, row.storage_name


@pytest.mark.parametrize("recorder", [CHROME, SAFARI], ids=["chrome-webm-opus", "safari-mp4-aac"])
def test_a_recording_from_either_browser_is_stored_as_aac_in_mp4_without_tags(
        app, world, client, auth, recorder):
    ref = make_order(app, world)
    auth.login("producer")
    recorded = tone(2.0, tags={"title": "<script>alert(1)</script>", "artist": "Secret Phone 9"},
                    **recorder)
    assert b"Secret Phone 9" in recorded
    assert post_update(client, ref, recorded).status_code == 303
    voice_id, duration_ms, name = the_voice(app)
    assert 1900 <= duration_ms <= 2100 and name.endswith(".m4a")
    served = client.get(f"/attachments/{voice_id}")
    assert served.status_code == 200 and served.mimetype == "audio/mp4"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Cache-Control"].startswith("private")
    body = served.get_data()
    heard = probe(body)
    assert heard["container"].startswith("mov,mp4") and heard["codec"] == "aac"
    assert heard["channels"] == 1 and 1.9 <= heard["seconds"] <= 2.1
    assert set(heard["tags"]) <= STRUCTURE, heard["tags"]
    assert b"Secret Phone" not in body and b"script" not in body and b"Lavf" not in body
    assert len(body) < 20_000  # speech quality: a minute stays near 180 KB
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert f'<audio controls preload="none" src="/attachments/{voice_id}"' in page
    assert "Voice note, 2 seconds" in page


def test_safari_gets_the_part_of_a_note_it_asks_for(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, tone(2.0, **SAFARI), name="voice.m4a")
    voice_id, _, _ = the_voice(app)
    whole = client.get(f"/attachments/{voice_id}").get_data()
    part = client.get(f"/attachments/{voice_id}", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.get_data() == whole[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert part.headers["Accept-Ranges"] == "bytes" and part.mimetype == "audio/mp4"
    tail = client.get(f"/attachments/{voice_id}", headers={"Range": f"bytes={len(whole) - 10}-"})
    assert tail.status_code == 206 and tail.get_data() == whole[-10:]
    assert client.get(f"/attachments/{voice_id}/thumb").status_code == 404  # a note has no picture


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


HOSTILE = {
    "not-audio-at-all": (b"This is not a recording, just text pretending. " * 40, "voice.webm", 415),
    "jpeg-renamed-webm": (jpeg(), "voice.webm", 415),
    "jpeg-then-audio-polyglot": (jpeg() + tone(1.0), "voice.webm", 415),
    "corrupt": (b"\x1aE\xdf\xa3" + bytes(range(256)) * 40, "voice.webm", 415),
    "ten-megabytes": (b"\x1aE\xdf\xa3" + b"\0" * (10 * 1024 * 1024), "voice.webm", 413),
    "four-megabytes": (b"\x1aE\xdf\xa3" + b"\0" * (4 * 1024 * 1024), "voice.webm", 413),
    "sixty-five-seconds": (None, "voice.webm", 422),
    "three-minutes": (None, "voice.webm", 422),
    "empty-sound": (tone(0.02), "voice.webm", 415),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_voice_note_is_refused_with_a_message_and_changes_nothing(
        app, world, client, auth, case):
    data, name, status = HOSTILE[case]
    if data is None:
        data = tone(180.0 if case == "three-minutes" else 65.0)
    ref = make_order(app, world)
    auth.login("producer")
    before, files = counts(app), stored_files(app)
    response = post_update(client, ref, data, name=name, note="with a bad note",
                           Accept="application/json")
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    error = response.json["error"]
    assert error["message"]
    if len(data) < app.config["MAX_CONTENT_LENGTH"]:  # else refused before any field is read
        assert error["fields"]["voice"]
    assert counts(app) == before and stored_files(app) == files


def test_a_whole_minute_is_kept_and_stays_near_180_kb(app, world, client, auth):
    """The 60 s limit lets a full minute through (a recorder stopped at 60 s), and the stored
    note, at speech quality, keeps a minute near 180 KB whatever the phone sent."""
    ref = make_order(app, world)
    auth.login("producer")
    assert post_update(client, ref, tone(60.0)).status_code == 303
    voice_id, duration_ms, _ = the_voice(app)
    assert 59_900 <= duration_ms <= 60_100
    stored = client.get(f"/attachments/{voice_id}").get_data()
    assert len(stored) < 190_000, len(stored)
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Voice note, 60 seconds" in page


def test_a_plain_form_shows_the_refusal_at_the_voice_field_with_what_was_typed(
        app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = post_update(client, ref, jpeg(), note="Truck left at dawn")
    assert response.status_code == 415
    page = response.get_data(as_text=True)
    assert "Only a voice recording can be attached as a voice note." in page
    assert "Truck left at dawn" in page


def test_the_refusal_is_in_the_readers_language(app, world, client, auth):
    ref = make_order(app, world)
    with app.app_context():
        db.session.get(User, world.users["producer"]).locale = "km"
        db.session.commit()
    auth.login("producer")
    response = post_update(client, ref, tone(180.0), Accept="application/json")
    assert response.status_code == 422
    message = response.json["error"]["fields"]["voice"]
    assert "60" in message or "៦០" in message
    assert any("\u1780" <= ch <= "\u17ff" for ch in message), message


def test_a_script_at_the_end_of_a_recording_is_not_kept(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    polyglot = tone(1.0) + b"<html><script>alert(document.cookie)</script></html>"
    assert post_update(client, ref, polyglot).status_code == 303
    voice_id, _, _ = the_voice(app)
    served = client.get(f"/attachments/{voice_id}")
    assert b"<script" not in served.get_data() and served.mimetype == "audio/mp4"


def test_a_replayed_note_is_stored_once(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    recorded = tone(1.5)
    for _ in range(3):
        response = post_update(client, ref, recorded, Accept="application/json",
                               **{"Idempotency-Key": "voice-replay-0001"})
        assert response.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count(StatusUpdate.id)).where(
            StatusUpdate.voice_id.is_not(None))) == 1
        assert db.session.scalar(select(func.count(Attachment.id))) == 1


def test_only_those_who_may_see_the_order_hear_its_notes(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, tone(1.0))
    voice_id, _, _ = the_voice(app)
    auth.logout()
    for who, status in [("producer", 200), ("customer", 200), ("coordinator", 200), ("admin", 200),
                        ("other_producer", 404), ("other_customer", 404), ("other_coordinator", 404)]:
        auth.login(who)
        assert client.get(f"/attachments/{voice_id}").status_code == status, who
        auth.logout()
    assert client.get(f"/attachments/{voice_id}").status_code in (302, 401)


def test_nobody_posts_a_note_on_someone_elses_order(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("other_producer")
    before = counts(app)
    assert post_update(client, ref, tone(1.0), Accept="application/json").status_code == 404
    assert counts(app) == before


def test_delivery_issue_and_comment_take_a_note_and_the_issue_page_plays_them(
        app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    body, content_type = multipart({"received_quantity": "90", "condition": "short",
                                    "open_issue": "1"}, [("voice", "v.m4a", tone(1.0, **SAFARI))])
    assert client.post(f"/orders/{ref}/delivery", data=body,
                       content_type=content_type).status_code == 303
    with app.app_context():
        delivery = db.session.scalar(select(DeliveryConfirmation))
        assert delivery.voice is not None
        issue = db.session.scalar(select(Issue).where(Issue.voice_id == delivery.voice_id))
        issue_id = issue.id
    body, content_type = multipart({"body": ""}, [("voice", "v.webm", tone(3.0))])
    assert client.post(f"/issues/{issue_id}/comments", data=body,
                       content_type=content_type).status_code == 303  # a note alone is a message
    with app.app_context():
        comment = db.session.scalar(select(IssueComment).where(IssueComment.issue_id == issue_id))
        assert comment.voice.duration_ms >= 2900
        comment_voice = comment.voice_id
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert f'src="/attachments/{comment_voice}"' in page and "Voice note, 3 seconds" in page
    order_page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Voice note, 1 second" in order_page


def test_the_api_takes_a_note_as_multipart_and_shows_it_in_the_read_payloads(app, world, client):
    ref = make_order(app, world)
    producer = token_for(app, "producer")
    body, content_type = multipart({"status": "dispatched", "note": "Truck left"},
                                   [("voice", "v.webm", tone(2.0))])
    created = client.post(f"/api/v1/orders/{ref}/updates", data=body, content_type=content_type,
                          headers={**producer, "Idempotency-Key": "api-voice-0001"})
    assert created.status_code == 201, created.json
    voice = created.json["voice"]
    assert voice["mime"] == "audio/mp4" and 1900 <= voice["duration_ms"] <= 2100
    customer = token_for(app, "customer")
    read = client.get(f"/api/v1/orders/{ref}", headers=customer).json
    assert read["updates"][0]["voice"] == voice
    bad, content_type = multipart({"status": "note"}, [("voice", "v.webm", jpeg())])
    refused = client.post(f"/api/v1/orders/{ref}/updates", data=bad, content_type=content_type,
                          headers={**producer, "Idempotency-Key": "api-voice-0002"})
    assert refused.status_code == 415 and refused.json["error"]["fields"]["voice"]
    issue = client.get(f"/api/v1/issues/{world.issue}", headers=producer).json
    assert issue["voice"] is None and all("voice" in c for c in issue["comments"])


def test_the_microphone_is_allowed_for_the_apps_own_pages_only(app, client):
    policy = client.get("/login").headers["Permissions-Policy"]
    assert "microphone=(self)" in policy
    assert "media-src 'self' blob:" in client.get("/login").headers["Content-Security-Policy"]


def test_a_tracking_link_plays_the_orders_notes_and_its_clerk_can_speak_a_problem(
        app, world, client, auth):
    import re

    from tests.test_tracking import create_link

    ref = make_order(app, world)
    other_ref = make_order(app, world, product="Silk scarves")
    auth.login("producer")
    post_update(client, ref, tone(1.0), note="Truck left Takeo")
    post_update(client, other_ref, tone(2.0, **SAFARI), name="v.m4a", note="Another order")
    with app.app_context():
        other_voice = db.session.scalar(select(StatusUpdate.voice_id).where(
            StatusUpdate.note == "Another order"))
    token = create_link(client, ref)
    auth.logout()
    html = client.get(f"/t/{token}").get_data(as_text=True)
    src = re.search(rf'<audio controls preload="none" src="(/t/{re.escape(token)}/photos/\d+)"',
                    html).group(1)
    played = client.get(src, headers={"Range": "bytes=0-9"})
    assert played.status_code == 206 and played.mimetype == "audio/mp4"
    assert client.get(f"/t/{token}/photos/{other_voice}").status_code == 404  # not this order's
    body, content_type = multipart({"category": "quality", "title": "Wet bags"},
                                   [("voice", "v.webm", tone(2.0))])
    assert client.post(f"/t/{token}/problem", data=body,
                       content_type=content_type).status_code == 303
    with app.app_context():
        issue = db.session.scalar(select(Issue).where(Issue.title == "Wet bags"))
        assert issue.voice.duration_ms >= 1900 and issue.voice.uploaded_by_id is None


def _props(doc, node):
    """The properties a schema names, following $ref and allOf."""
    if "$ref" in node:
        return _props(doc, doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
    found = dict(node.get("properties", {}))
    for part in node.get("allOf", []):
        found.update(_props(doc, part))
    return found


def test_the_openapi_document_says_where_voice_notes_go_in_and_come_out(app, world, client):
    """Every write that takes a note takes it as multipart `voice`, and the order read names
    every field it sends: the timeline's and the delivery's voice notes included."""
    doc = client.get("/api/v1/openapi.json").json
    for path in ("/orders/{reference}/updates", "/orders/{reference}/delivery",
                 "/orders/{reference}/issues", "/issues/{issue_id}/comments"):
        form = doc["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert "voice" in _props(doc, form), path
    ref = make_order(app, world)
    customer = token_for(app, "customer")
    body, content_type = multipart({"received_quantity": "100", "condition": "good"},
                                   [("voice", "v.webm", tone(1.0))])
    sent = client.post(f"/api/v1/orders/{ref}/delivery", data=body, content_type=content_type,
                       headers={**customer, "Idempotency-Key": "api-voice-delivery-1"})
    assert sent.status_code == 201, sent.get_data(as_text=True)[:300]
    read = client.get(f"/api/v1/orders/{ref}", headers=customer).json
    assert read["delivery"]["voice"]["duration_ms"] >= 900
    schema = doc["paths"]["/orders/{reference}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    top = _props(doc, schema)
    assert set(read) <= set(top), set(read) - set(top)
    assert set(read["delivery"]) <= set(_props(doc, top["delivery"]))
    assert "voice" in _props(doc, top["delivery"])
    assert "voice" in _props(doc, top["updates"]["items"])
