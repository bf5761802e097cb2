"""One write pipeline (secgo.writes): one request shape whoever sends it, input never changed,
and no view that calls run_once itself."""
import ast
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from secgo.extensions import db
from secgo.i18n import check_zawgyi
from secgo.models import IssueComment, StatusUpdate
from tests.factories import jpeg_bytes, matrix_issue, matrix_photo
from tests.test_orders import NO_CSRF, make_order
from tests.test_photos import multipart
from tests.test_zawgyi_forms import SURE, SURE_UNICODE, UNSURE, UNSURE_UNICODE

JSON = {"Accept": "application/json"}
PACKAGE = Path(__file__).resolve().parent.parent / "secgo"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def post_form(client, url, fields, photo_name, photo, **headers):
    body, content_type = multipart(fields, [("photos", photo_name, photo)])
    return client.post(url, data=body, content_type=content_type, headers=headers)


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_the_same_photo_under_another_file_name_is_a_replay_for_an_update(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    fields = {"status": "ready", "note": "Packed", "client_id": "same-photo-update-1"}
    photo = jpeg_bytes()
    first = post_form(client, f"/orders/{ref}/updates", fields, "IMG_0001.jpg", photo)
    assert first.status_code == 303
    # The outbox sends the queued Blob again after a timeout, under the name it gave it.
    again = post_form(client, f"/orders/{ref}/updates", fields, "blob", photo, **JSON)
    assert again.status_code == 201 and again.get_json()["location"] == f"/orders/{ref}"
    assert count(app, StatusUpdate) == 1
    other = post_form(client, f"/orders/{ref}/updates", fields, "IMG_0001.jpg",
                      jpeg_bytes(colour=(200, 10, 10)), **JSON)
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_the_same_photo_under_another_file_name_is_a_replay_for_an_issue_comment(app, world, client,
                                                                                  auth):
    ref = make_order(app, world)
    with app.app_context():
        issue = matrix_issue(world, reference=ref)
    auth.login("producer")
    fields = {"body": "The bags are dry", "client_id": "same-photo-comment-1"}
    photo = jpeg_bytes()
    first = post_form(client, f"/issues/{issue}/comments", fields, "a.jpg", photo, **JSON)
    again = post_form(client, f"/issues/{issue}/comments", fields, "b.jpg", photo, **JSON)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert count(app, IssueComment) == 1


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_a_page_form_and_the_api_sending_the_same_update_are_one_request(app, world, client, auth):
    ref = make_order(app, world)
    with app.app_context():
        photo_id = matrix_photo(world, uploader="producer", reference=ref)  # posts one update
    auth.login("producer")
    form = client.post(f"/orders/{ref}/updates", data={
        "status": "ready", "note": "Packed", "photo_ids": str(photo_id),
        "client_id": "page-then-api-01"}, headers=JSON)
    assert form.status_code == 201
    api = client.post(f"/api/v1/orders/{ref}/updates", json={
        "status": "ready", "note": "Packed", "photo_ids": [photo_id]},
        headers={"Idempotency-Key": "page-then-api-01"})
    assert api.status_code == 201 and api.get_json()["id"] == form.get_json()["id"]
    assert count(app, StatusUpdate) == 2


def test_check_zawgyi_leaves_its_input_as_it_was(app):
    data = {"note": UNSURE, "title": SURE, "other": UNSURE, "note_encoding": "unicode",
            "note_typed": UNSURE}
    before = dict(data)
    texts, doubts = check_zawgyi(data, ("note", "title", "missing"))
    assert data == before and all(type(v) is str for v in data.values())
    assert texts == {"note": UNSURE_UNICODE, "title": SURE_UNICODE}
    assert texts["note"].original == UNSURE and texts["title"].original == SURE
    assert doubts == {"note": {"typed": UNSURE, "unicode": UNSURE_UNICODE, "answer": "unicode"}}
    # Settling twice gives the same answer: nothing depends on who called first.
    assert check_zawgyi(data, ("note", "title", "missing")) == (texts, doubts)


def test_a_settled_text_answered_typed_is_a_new_value(app):
    settled, _doubts = check_zawgyi({"note": UNSURE}, ("note",))
    assert settled["note"].zawgyi_suggestion == UNSURE_UNICODE
    kept, _doubts = check_zawgyi({"note": settled["note"], "note_encoding": "typed"}, ("note",))
    assert kept["note"] == UNSURE and kept["note"].zawgyi_suggestion is None
    assert settled["note"].zawgyi_suggestion == UNSURE_UNICODE  # the first value is unchanged


def _calls(path: Path, name: str) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and (
        getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)]


def test_only_the_write_pipeline_calls_run_once():
    callers = {str(path.relative_to(PACKAGE)): lines for path in sorted(PACKAGE.rglob("*.py"))
               if (lines := _calls(path, "run_once"))}
    # The push worker's run_once is its own method (one round of sending), not idempotency's.
    callers.pop("push/worker.py", None)
    callers.pop("push/commands.py", None)
    assert list(callers) == ["writes.py"], callers


def test_caller_keys_are_built_in_one_place():
    builders = [str(path.relative_to(PACKAGE)) for path in sorted(PACKAGE.rglob("*.py"))
                if 'f"u{' in path.read_text(encoding="utf-8")
                or 'f"t{' in path.read_text(encoding="utf-8")]
    assert builders == ["writes.py"]


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_the_same_request_id_with_other_boxes_ticked_is_refused_not_taken_for_the_first(
        app, world, client, auth):
    from secgo.models import CrossingRequirement
    from tests.test_documents import set_checklist

    auth.login("coordinator")
    fields = [("crossing", "mae_sot_myawaddy"), ("product", ""), ("client_id", "boxes-ticked-01")]

    def send(*types):
        body, content_type = multipart([*fields, *[("doc_types", t) for t in types]], [])
        return client.post("/coordinator/checklists", data=body, content_type=content_type,
                           headers=JSON)

    first = send("commercial_invoice", "packing_list")
    assert first.status_code == 200
    assert send("commercial_invoice", "packing_list").get_json() == first.get_json()  # a replay
    other = send("commercial_invoice", "phytosanitary")
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        assert sorted(db.session.scalars(select(CrossingRequirement.doc_type))) == [
            "commercial_invoice", "packing_list"]
    assert set_checklist(client, "mae_sot_myawaddy", ["fumigation"]).status_code == 303


def test_write_views_read_the_request_through_the_pipeline():
    """A write's run gets every value from its Posted (posted.getlist for checkboxes), so what
    it stores is what identifies the request for a replay."""
    readers = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                     if "request.form.getlist(" in path.read_text(encoding="utf-8"))
    assert readers == ["writes.py"], readers


def _statements_of(app, send) -> list[str]:
    statements = []
    with app.app_context():
        engine = db.engine
    def listen(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):  # (SQLite's BEGIN IMMEDIATE: the transaction itself)
            statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        answer = send()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return statements


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_a_note_and_a_comment_each_cost_the_database_a_fixed_few_statements(app, world, client, auth):
    """A report sent from a weak connection holds the database as briefly as it can: the key
    is claimed and the order's version put up without statements of their own."""
    ref = make_order(app, world)
    with app.app_context():
        issue = matrix_issue(world, reference=ref)
    auth.login("producer")
    note = _statements_of(app, lambda: client.post(
        f"/orders/{ref}/updates", data={"status": "note", "note": "Loaded", "client_id": "few-statements-1"},
        headers=JSON))
    comment = _statements_of(app, lambda: client.post(
        f"/issues/{issue}/comments", data={"body": "On the way", "client_id": "few-statements-2"}, headers=JSON))
    for statements in (note, comment):
        keys = [s for s in statements if "idempotency_keys" in s]
        assert [s.split()[0] for s in keys] == ["INSERT", "UPDATE"], keys  # no look-up first
        order_updates = [s for s in statements if s.startswith("UPDATE orders")]
        assert len(order_updates) == 1 and "data_version" in order_updates[0], order_updates
        assert len([s for s in statements if s.startswith("UPDATE organizations")]) == 1
    assert len(note) <= 10, note
    assert len(comment) <= 13, comment
    # and the replay is still answered from the key, once
    again = client.post(f"/orders/{ref}/updates",
                        data={"status": "note", "note": "Loaded", "client_id": "few-statements-1"}, headers=JSON)
    assert again.status_code == 201
    assert count(app, StatusUpdate) == 1
