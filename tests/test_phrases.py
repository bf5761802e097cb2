"""Quick phrases: tapped in one language, stored as codes, read in every reader's own language
(pages, API, push, search); refused clearly, with nothing written, when they are not ours."""
import pytest
from babel.messages.pofile import read_po
from sqlalchemy import func, select

from secgo import phrases
from secgo.config import PACKAGE
from secgo.extensions import db
from secgo.models import Issue, IssueComment, Notification, StatusUpdate, User
from secgo.push.payload import render as push_payload
from tests.test_api_orders import token_for
from tests.test_orders import NO_CSRF, make_order, post_update

pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)
LANGS = ("km", "lo", "my", "th", "vi")


def set_locale(app, username, locale):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).locale = locale
        db.session.commit()


def count(model):
    return db.session.scalar(select(func.count(model.id)))


def test_every_phrase_has_words_in_all_five_catalogs(app):
    for lang in LANGS:
        with open(PACKAGE / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
            catalog = read_po(fh, locale=lang)
        for phrase in phrases.PHRASES.values():
            msgid = phrase.words[0] if isinstance(phrase.words, tuple) else phrase.words
            message = catalog.get(phrase.words if isinstance(phrase.words, str) else msgid)
            assert message is not None and all(message.string if isinstance(message.string, tuple)
                                               else [message.string]), (lang, phrase.code)


def test_a_khmer_note_reaches_a_thai_buyer_in_thai(app, world, client, auth):
    ref = make_order(app, world)
    set_locale(app, "producer", "km")
    set_locale(app, "customer", "th")
    auth.login("producer")
    response = post_update(client, ref, "dispatched", "ឡានធំ ពណ៌ខៀវ", phrase_truck_left="1",
                           phrase_short_by="1", phrase_short_by_quantity="1,500")
    assert response.status_code == 303
    with app.app_context():
        update = db.session.scalar(select(StatusUpdate))
        assert update.phrases == [{"code": "truck_left", "params": {}},
                                  {"code": "short_by", "params": {"quantity": "1500", "unit": "kg"}}]
        assert update.note == "ឡានធំ ពណ៌ខៀវ"  # the free text stays as typed
    khmer = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "ឡានចេញដំណើរហើយ" in khmer
    auth.logout()
    auth.login("customer")
    thai = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "รถออกแล้ว" in thai and "ขาด 1,500" in thai and "ឡានធំ ពណ៌ខៀវ" in thai
    assert "ឡានចេញដំណើរហើយ" not in thai
    # The buyer's phone is told in Thai, with the phrases rather than "tap to see".
    with app.app_context():
        note = db.session.scalar(select(Notification).where(
            Notification.user_id == world.users["customer"], Notification.event == "status_update"))
        customer = db.session.get(User, world.users["customer"])
        with app.test_request_context():
            body = push_payload(note, customer)["body"]
    assert body.startswith("รถออกแล้ว") and "ขาด" in body


def test_the_api_gives_codes_params_and_text_in_the_callers_language(app, world, client):
    ref = make_order(app, world)
    set_locale(app, "customer", "vi")
    headers = token_for(app, "producer")
    created = client.post(f"/api/v1/orders/{ref}/updates", headers=headers, json={
        "status": "at_border", "phrases": ["waiting_border", {"code": "delayed_days", "params": {"num": 2}}]})
    assert created.status_code == 201
    assert [p["code"] for p in created.json["phrases"]] == ["waiting_border", "delayed_days"]
    read = client.get(f"/api/v1/orders/{ref}", headers=token_for(app, "customer")).json
    said = read["updates"][-1]["phrases"]
    assert said[0] == {"code": "waiting_border", "params": {}, "text": "Đang chờ ở cửa khẩu"}
    assert said[1]["params"] == {"num": 2} and said[1]["text"] == "Chậm 2 ngày"
    listed = client.get("/api/v1/phrases", headers=headers).json["items"]
    assert {"code": "short_by", "params": {"quantity": "quantity"}} .items() <= {
        k: v for k, v in next(p for p in listed if p["code"] == "short_by").items()}.items()


@pytest.mark.parametrize("body, message", [
    ({"phrase_truck_gone": "1"}, "Choose quick phrases from the list."),
    ({"phrase_short_by": "1", "phrase_short_by_quantity": "-5"}, "enter a quantity greater than 0"),
    ({"phrase_short_by": "1", "phrase_short_by_quantity": "lots"}, "enter a quantity greater than 0"),
    ({"phrase_short_by": "1"}, "enter a quantity greater than 0"),
    ({"phrase_delayed_days": "1", "phrase_delayed_days_num": "0"}, "whole number from 1 to 999"),
    ({"phrase_truck_left": "yes"}, "Choose quick phrases from the list."),
    ({"phrase_truck_left_colour": "red"}, "Choose quick phrases from the list."),
    ({"phrase_damaged_packaging": "1"}, "Choose quick phrases from the list."),  # not on updates
    ({"phrases": "truck_left"}, "Send a list of at most 8 quick phrases."),
])
def test_a_phrase_that_is_not_ours_is_refused_and_nothing_is_written(app, world, client, auth,
                                                                       body, message):
    ref = make_order(app, world)
    auth.login("producer")
    response = post_update(client, ref, "dispatched", "typed", **body)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with app.app_context():
        assert count(StatusUpdate) == 0


@pytest.mark.parametrize("value", [
    "truck_left", [{"code": "truck_left", "extra": 1}], [{"code": 7}], ["x"] * 9,
    [{"code": "short_by", "params": {"quantity": "1e400"}}],
    [{"code": "short_by", "params": {"quantity": 2, "colour": "red"}}],
    [{"code": "delayed_days", "params": {"num": True}}], [{"code": "update_wrong"}],
])
def test_the_api_refuses_bad_phrases_with_a_localized_422(app, world, client, value):
    ref = make_order(app, world)
    set_locale(app, "producer", "th")
    response = client.post(f"/api/v1/orders/{ref}/updates", headers=token_for(app, "producer"),
                           json={"status": "dispatched", "phrases": value})
    assert response.status_code == 422 and "phrases" in response.json["error"]["fields"]
    assert not response.json["error"]["fields"]["phrases"].isascii()  # in the caller's Thai
    with app.app_context():
        assert count(StatusUpdate) == 0


def test_the_outbox_posts_the_same_form_fields(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = client.post(f"/orders/{ref}/updates", headers={
        "Accept": "application/json", "Idempotency-Key": "outbox-phrase-0001"},
        data={"status": "ready", "phrase_packed": "1"})
    assert response.status_code == 201
    again = client.post(f"/orders/{ref}/updates", headers={
        "Accept": "application/json", "Idempotency-Key": "outbox-phrase-0001"},
        data={"status": "ready", "phrase_packed": "1"})
    assert again.status_code == 201 and again.json["id"] == response.json["id"]
    with app.app_context():
        assert count(StatusUpdate) == 1


def test_search_finds_a_phrase_in_any_language(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, "dispatched", "", phrase_truck_left="1")
    set_locale(app, "producer", "th")
    page = client.get("/orders?q=รถออก").get_data(as_text=True)
    assert ref in page
    assert ref in client.get("/orders?q=xe da xuat phat").get_data(as_text=True)  # without marks


def test_an_issue_and_a_comment_may_say_only_phrases(app, world, client, auth):
    ref = make_order(app, world)
    set_locale(app, "producer", "my")
    auth.login("customer")
    response = client.post(f"/orders/{ref}/issues/new", data={
        "category": "quality", "severity": "medium", "title": "", "phrase_goods_wet": "1",
        "phrase_short_by": "1", "phrase_short_by_quantity": "12.5"})
    assert response.status_code == 303
    issue_url = response.headers["Location"]
    with app.app_context():
        issue = db.session.scalar(select(Issue).order_by(Issue.id.desc()))
        assert issue.title_phrase == {"code": "goods_wet", "params": {}}
        assert issue.title == "Goods got wet"  # kept in English; shown in each reader's language
    assert client.post(f"{issue_url}/comments", data={"body": "", "phrase_call_me": "1"}).status_code == 303
    auth.logout()
    auth.login("producer")
    page = client.get(issue_url).get_data(as_text=True)
    assert "ပစ္စည်း ရေစိုသွားပါတယ်" in page and "ဖုန်းဆက်ပေးပါ" in page
    with app.app_context():
        assert db.session.scalar(select(IssueComment.phrases)) == [{"code": "call_me", "params": {}}]
    api = client.get(issue_url.replace("/issues/", "/api/v1/issues/"),
                     headers=token_for(app, "producer")).json
    assert api["title"] == "ပစ္စည်း ရေစိုသွားပါတယ်" and api["title_phrase"]["code"] == "goods_wet"
    assert api["comments"][0]["phrases"][0]["text"] == "ဖုန်းဆက်ပေးပါ"


def test_a_comment_with_a_phrase_from_another_form_is_refused(app, world, client, auth):
    auth.login("customer")
    response = client.post(f"/issues/{world.issue}/comments", data={"body": "", "phrase_truck_left": "1"})
    assert response.status_code == 422
    with app.app_context():
        assert count(IssueComment) == 0


def test_the_forms_offer_the_chips_as_checkboxes(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert 'type="checkbox" name="phrase_truck_left" value="1"' in page
    assert 'name="phrase_short_by_quantity"' in page
    assert "Damaged packaging" not in page  # a customer's phrase, not offered on the update form
