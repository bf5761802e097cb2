"""Burmese typed on a Zawgyi phone: sure Zawgyi is converted, unsure Zawgyi is asked about.

Page forms ask "did you mean ...?" before saving; scripts (the outbox, the API) are never
blocked: the text is stored as typed and the answer carries the suggestion.
"""
import re

import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.i18n import ZAWGYI_SURE, ZAWGYI_UNSURE, zawgyi_probability
from secgo.models import DeliveryConfirmation, Issue, IssueComment, StatusUpdate
from tests.test_orders import NO_CSRF, make_order
from tests.test_text import UNSURE_ZAWGYI, ZAWGYI_UNICODE

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)

# Real Zawgyi from Google's myanmar-tools test data (see tests/test_text.py).
SURE, SURE_UNICODE = ZAWGYI_UNICODE[1]  # article 3 of the declaration, p ~ 1.0
UNSURE, UNSURE_UNICODE = UNSURE_ZAWGYI  # one word, p ~ 0.72
PLAIN = "ကားထွက်သွားပါပြီ။"  # Unicode Burmese: "the truck has left"
JSON = {"Accept": "application/json"}


def test_the_samples_are_in_the_bands_the_tests_rely_on(app):
    assert zawgyi_probability(SURE) >= ZAWGYI_SURE
    assert ZAWGYI_UNSURE < zawgyi_probability(UNSURE) < ZAWGYI_SURE
    assert zawgyi_probability(PLAIN) < ZAWGYI_UNSURE
    assert SURE != SURE_UNICODE and UNSURE != UNSURE_UNICODE


def updates(app):
    with app.app_context():
        return [(u.note, u.note_original) for u in db.session.scalars(
            select(StatusUpdate).order_by(StatusUpdate.id))]


def note(client, ref, text, **extra):
    return client.post(f"/orders/{ref}/updates", data={"status": "note", "note": text, **extra})


def hidden_client_id(page, form_action):
    form = page[page.index(f'action="{form_action}"'):]
    return re.search(r'name="client_id" value="([^"]+)"', form).group(1)


def test_a_sure_zawgyi_note_is_stored_as_unicode_with_what_was_typed_kept(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = note(client, ref, SURE)
    assert response.status_code == 303
    assert updates(app) == [(SURE_UNICODE, SURE)]


def test_an_unsure_note_is_not_saved_but_asked_about_with_the_unicode_reading(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = note(client, ref, UNSURE, client_id="zawgyi-note-0001")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="did-you-mean"' in page and UNSURE_UNICODE in page
    assert 'name="note_encoding" value="unicode" checked' in page
    assert 'name="note_encoding" value="typed"' in page
    assert f">{UNSURE}</textarea>" in page  # the text as typed, to fix or keep
    assert hidden_client_id(page, f"/orders/{ref}/updates") == "zawgyi-note-0001"
    assert updates(app) == []


def test_choosing_the_unicode_reading_saves_it_once_and_keeps_what_was_typed(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    assert note(client, ref, UNSURE, client_id="zawgyi-note-0002").status_code == 422
    answer = {"client_id": "zawgyi-note-0002", "note_encoding": "unicode", "note_typed": UNSURE}
    assert note(client, ref, UNSURE, **answer).status_code == 303
    assert note(client, ref, UNSURE, **answer).status_code == 303  # a double tap
    assert updates(app) == [(UNSURE_UNICODE, UNSURE)]
    assert "did-you-mean" not in client.get(f"/orders/{ref}").get_data(as_text=True)


def test_keeping_the_text_as_typed_saves_it_unchanged(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = note(client, ref, UNSURE, note_encoding="typed", note_typed=UNSURE)
    assert response.status_code == 303
    assert updates(app) == [(UNSURE, None)]


def test_text_edited_after_the_question_is_asked_about_again(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    edited = UNSURE + " " + UNSURE
    response = note(client, ref, edited, note_encoding="unicode", note_typed="something else")
    assert response.status_code == 422 and "did-you-mean" in response.get_data(as_text=True)
    assert updates(app) == []


def test_the_outbox_is_never_blocked_and_gets_the_suggestion_back(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = client.post(f"/orders/{ref}/updates", data={"status": "note", "note": UNSURE},
                           headers={**JSON, "Idempotency-Key": "zawgyi-outbox-0001"})
    assert response.status_code == 201
    assert response.json["zawgyi_suggestion"] == {"note": {"typed": UNSURE, "unicode": UNSURE_UNICODE}}
    assert updates(app) == [(UNSURE, None)]


def test_the_api_stores_unsure_text_as_typed_and_answers_with_the_suggestion(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    headers = {"Idempotency-Key": "zawgyi-api-0001"}
    first = client.post(f"/api/v1/orders/{ref}/updates", json={"status": "note", "note": UNSURE},
                        headers=headers)
    assert first.status_code == 201
    assert first.json["note"] == UNSURE
    assert first.json["zawgyi_suggestion"]["note"]["unicode"] == UNSURE_UNICODE
    again = client.post(f"/api/v1/orders/{ref}/updates", json={"status": "note", "note": UNSURE},
                        headers=headers)
    assert again.json == first.json
    chosen = client.post(f"/api/v1/orders/{ref}/updates",
                         json={"status": "note", "note": UNSURE, "note_encoding": "unicode"})
    assert chosen.status_code == 201 and "zawgyi_suggestion" not in chosen.json
    assert updates(app) == [(UNSURE, None), (UNSURE_UNICODE, UNSURE)]


@pytest.mark.parametrize("text", [PLAIN, "Truck left Takeo at 6:00"])
def test_unicode_burmese_and_other_text_is_saved_unchanged_without_a_question(app, world, client,
                                                                             auth, text):
    ref = make_order(app, world)
    auth.login("producer")
    assert note(client, ref, text).status_code == 303
    assert updates(app) == [(text, None)]
    api = client.post(f"/api/v1/orders/{ref}/updates", json={"status": "note", "note": text})
    assert "zawgyi_suggestion" not in api.json


def test_the_delivery_note_is_asked_about_and_the_answer_saved(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    form = {"received_quantity": "100", "condition": "good", "note": UNSURE}
    asked = client.post(f"/orders/{ref}/delivery", data=form)
    assert asked.status_code == 422 and UNSURE_UNICODE in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(DeliveryConfirmation.id))) == 0
    saved = client.post(f"/orders/{ref}/delivery",
                        data={**form, "note_encoding": "unicode", "note_typed": UNSURE})
    assert saved.status_code == 303
    with app.app_context():
        delivery = db.session.scalar(select(DeliveryConfirmation))
        assert (delivery.note, delivery.note_original) == (UNSURE_UNICODE, UNSURE)


def test_a_new_issue_asks_about_its_title_and_description(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    form = {"category": "quality", "severity": "high", "title": UNSURE, "description": SURE}
    with app.app_context():
        before = db.session.scalar(select(func.count(Issue.id)))
    asked = client.post(f"/orders/{ref}/issues/new", data={**form, "client_id": "zawgyi-issue-01"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 422 and UNSURE_UNICODE in page
    assert 'name="title_encoding"' in page and 'name="description_encoding"' not in page
    assert 'value="zawgyi-issue-01"' in page
    saved = client.post(f"/orders/{ref}/issues/new", data={
        **form, "client_id": "zawgyi-issue-01", "title_encoding": "unicode", "title_typed": UNSURE})
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(Issue.id))) == before + 1
        issue = db.session.scalar(select(Issue).order_by(Issue.id.desc()))
        assert (issue.title, issue.title_original) == (UNSURE_UNICODE, UNSURE)
        assert (issue.description, issue.description_original) == (SURE_UNICODE, SURE)


def test_an_issue_comment_is_asked_about_and_kept_as_typed_when_chosen(app, world, client, auth):
    auth.login("customer")
    url = f"/issues/{world.issue}/comments"
    asked = client.post(url, data={"body": UNSURE, "client_id": "zawgyi-comment-1"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 422 and UNSURE_UNICODE in page and 'name="body_encoding"' in page
    assert 'name="client_id" value="zawgyi-comment-1"' in page
    saved = client.post(url, data={"body": UNSURE, "client_id": "zawgyi-comment-1",
                                   "body_encoding": "typed", "body_typed": UNSURE})
    assert saved.status_code == 303
    with app.app_context():
        comments = [(c.body, c.body_original) for c in db.session.scalars(select(IssueComment))]
    assert comments == [(UNSURE, None)]


def test_the_issues_api_and_outbox_answer_with_the_suggestion(app, world, client, auth):
    auth.login("customer")
    raised = client.post(f"/api/v1/orders/{world.issue_order}/issues",
                         json={"category": "delay", "severity": "low", "title": UNSURE})
    assert raised.status_code == 201 and raised.json["title"] == UNSURE
    assert raised.json["zawgyi_suggestion"] == {"title": {"typed": UNSURE, "unicode": UNSURE_UNICODE}}
    comment = client.post(f"/api/v1/issues/{world.issue}/comments", json={"body": UNSURE})
    assert comment.json["zawgyi_suggestion"]["body"]["unicode"] == UNSURE_UNICODE
    outbox = client.post(f"/issues/{world.issue}/comments", data={"body": UNSURE}, headers=JSON)
    assert outbox.status_code == 201 and "body" in outbox.json["zawgyi_suggestion"]


def test_the_openapi_document_explains_the_suggestion(app, client):
    doc = client.get("/api/v1/openapi.json").json
    for path in ("/orders/{reference}/updates", "/orders/{reference}/delivery",
                 "/orders/{reference}/issues", "/issues/{issue_id}/comments"):
        assert "zawgyi_suggestion" in doc["paths"][path]["post"]["description"], path
    assert "ZawgyiSuggestion" in doc["components"]["schemas"]
    assert "note_encoding" in doc["components"]["schemas"]["NewStatusUpdate"]["properties"]


def test_a_correction_note_is_asked_about_on_the_correction_page(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    assert note(client, ref, "Milling started").status_code == 303
    with app.app_context():
        first = db.session.scalar(select(StatusUpdate)).id
    asked = note(client, ref, UNSURE, corrects_id=str(first))
    page = asked.get_data(as_text=True)
    assert asked.status_code == 422 and UNSURE_UNICODE in page
    assert 'name="corrects_id" value="%s"' % first in page  # still the correction form
    assert len(updates(app)) == 1
