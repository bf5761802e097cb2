"""Linking Telegram and confirming an SMS number from the settings page, the bot's webhook,
the short links text messages carry, and the channels in API v1."""
import re
import uuid

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from secgo.extensions import db
from secgo.models import ChannelLink, Notification, User
from tests.channelfakes import FakeSmsGateway, FakeTelegram
from tests.issue_factories import make_order

SECRET = {"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret"}


@pytest.fixture
def fakes(app):
    with FakeTelegram() as telegram, FakeSmsGateway() as sms:
        app.config["TELEGRAM_API_URL"] = telegram.origin
        app.config["SMS_GATEWAY_URL"] = sms.origin
        yield telegram, sms


def csrf(client, path="/settings"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def row(app, name, channel):
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == name))
        return db.session.scalar(select(ChannelLink).where(
            ChannelLink.user_id == uid, ChannelLink.channel == channel))


def update(text, chat=4242, chat_type="private", language="en", update_id=1):
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 1764300000, "text": text,
        "from": {"id": chat, "is_bot": False, "first_name": "Dara", "language_code": language},
        "chat": {"id": chat, "type": chat_type}}}


def start_link(client):
    page = client.post("/settings/telegram/link", data={"csrf_token": csrf(client)})
    assert page.status_code == 201
    html = page.get_data(as_text=True)
    match = re.search(r'href="https://t\.me/secgo_test_bot\?start=([A-Za-z0-9_-]{20,64})"', html)
    assert match and "<svg" in html  # the link and its QR code
    return match.group(1)


def test_opening_the_settings_link_in_telegram_links_the_chat_once(app, world, client, auth, fakes):
    auth.login("customer")
    with app.app_context():
        db.session.get(User, world.users["customer"]).locale = "th"
        db.session.commit()
    token = start_link(client)
    answer = client.post("/telegram/webhook", json=update(f"/start {token}"), headers=SECRET)
    assert answer.status_code == 200
    reply = answer.get_json()
    assert reply["method"] == "sendMessage" and reply["chat_id"] == 4242
    assert "SEC GO!" in reply["text"] and not reply["text"].startswith("Linked")  # in Thai
    linked = row(app, "customer", "telegram")
    assert linked.address == "4242" and linked.enabled and linked.secret_hash is None
    again = client.post("/telegram/webhook", json=update(f"/start {token}", chat=99), headers=SECRET)
    assert "expired" in again.get_json()["text"]
    assert row(app, "customer", "telegram").address == "4242"
    page = client.get("/settings").get_data(as_text=True)
    with app.test_request_context(), force_locale("th"):
        assert gettext("Notifications come to your Telegram chat with the SEC GO! bot.") in page


def test_a_start_link_from_a_group_chat_links_nothing(app, world, client, auth, fakes):
    auth.login("customer")
    token = start_link(client)
    answer = client.post("/telegram/webhook", json=update(f"/start {token}", chat=-100, chat_type="group"),
                         headers=SECRET)
    assert "private chat" in answer.get_json()["text"]
    assert row(app, "customer", "telegram").address is None


def test_stop_in_the_bot_unlinks_and_so_does_the_settings_page(app, world, client, auth, fakes):
    auth.login("customer")
    client.post("/telegram/webhook", json=update(f"/start {start_link(client)}"), headers=SECRET)
    answer = client.post("/telegram/webhook", json=update("/stop"), headers=SECRET)
    assert answer.get_json()["text"].startswith("Done")
    assert row(app, "customer", "telegram") is None
    client.post("/telegram/webhook", json=update(f"/start {start_link(client)}"), headers=SECRET)
    assert row(app, "customer", "telegram").address == "4242"
    gone = client.post("/settings/channels/telegram/unlink", data={"csrf_token": csrf(client)})
    assert gone.status_code == 303 and row(app, "customer", "telegram") is None


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                                     {"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secre"}])
def test_the_webhook_refuses_a_wrong_or_missing_secret_and_links_nothing(app, world, client, auth,
                                                                         fakes, headers):
    auth.login("customer")
    token = start_link(client)
    client.get("/logout")
    answer = client.post("/telegram/webhook", json=update(f"/start {token}"), headers=headers)
    assert answer.status_code == 403
    assert row(app, "customer", "telegram").address is None


HOSTILE = [
    ("not json", {"data": "update_id=1", "content_type": "application/x-www-form-urlencoded"}, 415),
    ("malformed", {"data": b'{"update_id": 1,', "content_type": "application/json"}, 400),
    ("a list", {"json": [update("/stop")]}, 400),
    ("no update id", {"json": {"message": update("/stop")["message"]}}, 400),
    ("a string chat id", {"json": {"update_id": 1, "message": {"chat": {"id": "4242"}, "text": "/stop"}}}, 400),
    ("a boolean chat id", {"json": {"update_id": 1, "message": {"chat": {"id": True}, "text": "/stop"}}}, 400),
    ("a huge chat id", {"json": {"update_id": 1, "message": {"chat": {"id": 2**80}, "text": "/stop"}}}, 400),
    ("text not a string", {"json": {"update_id": 1, "message": {"chat": {"id": 1}, "text": ["/stop"]}}}, 400),
    ("text too long", {"json": update("/start " + "a" * 5000)}, 400),
    ("NUL in text", {"json": update("/start abc\u0000def")}, 400),
    ("deep nesting", {"data": b'{"update_id": 1, "x": ' + b"[" * 40 + b"]" * 40 + b"}",
                      "content_type": "application/json"}, 400),
    ("too big", {"data": b'{"update_id": 1, "pad": "' + b"x" * 70000 + b'"}',
                 "content_type": "application/json"}, 413),
]


@pytest.mark.parametrize("name,kwargs,status", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_the_webhook_refuses_hostile_bodies_cleanly(app, world, client, fakes, name, kwargs, status):
    answer = client.post("/telegram/webhook", headers=SECRET, **kwargs)
    assert answer.status_code in (status, 422 if name == "NUL in text" else status), answer.get_data(as_text=True)
    assert answer.is_json and "error" in answer.get_json()
    with app.app_context():
        assert db.session.scalar(select(ChannelLink.id)) is None


def test_an_update_without_a_message_or_with_another_text_is_answered_plainly(app, world, client, fakes):
    assert client.post("/telegram/webhook", json={"update_id": 5, "edited_message": {}},
                       headers=SECRET).get_json() == {}
    reply = client.post("/telegram/webhook", json=update("hello", language="km"), headers=SECRET).get_json()
    assert reply["method"] == "sendMessage" and "/stop" in reply["text"] and "This bot" not in reply["text"]


def test_the_webhook_is_rate_limited(app, world, client, fakes):
    statuses = {client.post("/telegram/webhook", json=update("/stop", update_id=i), headers=SECRET).status_code
                for i in range(125)}
    assert 429 in statuses


def test_a_number_gets_messages_only_once_its_code_is_typed_back(app, world, client, auth, fakes):
    _telegram, sms = fakes
    auth.login("producer")  # a Cambodian cooperative: a number typed without +855 is Cambodian
    sent = client.post("/settings/sms/number", data={"csrf_token": csrf(client), "phone": "012 345 678"})
    assert sent.status_code == 303
    assert [m["phoneNumbers"] for m in sms.messages] == [["+85512345678"]]
    code = re.search(r"\b(\d{6})\b", sms.messages[0]["textMessage"]["text"]).group(1)
    pending = row(app, "producer", "sms")
    assert pending.address is None and pending.pending == "+85512345678"
    page = client.get("/settings").get_data(as_text=True)
    assert "Code sent to +855 12 345 678" in page
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/settings/sms/confirm", data={"csrf_token": csrf(client), "code": wrong})
    assert refused.status_code == 422 and "That code is not right" in refused.get_data(as_text=True)
    assert row(app, "producer", "sms").attempts == 1
    ok = client.post("/settings/sms/confirm", data={"csrf_token": csrf(client), "code": code})
    assert ok.status_code == 303
    confirmed = row(app, "producer", "sms")
    assert confirmed.address == "+85512345678" and confirmed.pending is None and confirmed.enabled
    assert "Notifications come by text message to +855 12 345 678" in client.get("/settings").get_data(as_text=True)


def test_a_code_tried_five_times_wrong_must_be_sent_again(app, world, client, auth, fakes):
    _telegram, sms = fakes
    auth.login("producer")
    client.post("/settings/sms/number", data={"csrf_token": csrf(client), "phone": "+85512345678"})
    code = re.search(r"\b(\d{6})\b", sms.messages[0]["textMessage"]["text"]).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/settings/sms/confirm", data={"csrf_token": csrf(client), "code": wrong})
    late = client.post("/settings/sms/confirm", data={"csrf_token": csrf(client), "code": code})
    assert late.status_code == 422 and "Send a new code" in late.get_data(as_text=True)
    assert row(app, "producer", "sms").address is None


@pytest.mark.parametrize("phone", ["12", "hello", "+1 555", "0" * 21, "+855 23 123 456", ""])
def test_a_number_that_cannot_get_text_messages_is_refused_in_the_persons_language(
        app, world, client, auth, fakes, phone):
    _telegram, sms = fakes
    auth.login("producer")
    with app.app_context():
        db.session.get(User, world.users["producer"]).locale = "km"
        db.session.commit()
    answer = client.post("/settings/sms/number", data={"csrf_token": csrf(client), "phone": phone})
    assert answer.status_code == 422
    assert "This is not a phone number" not in answer.get_data(as_text=True)  # Khmer, not English
    assert 'class="error"' in answer.get_data(as_text=True)
    assert sms.requests == [] and row(app, "producer", "sms") is None


def test_a_gateway_that_cannot_send_the_code_stores_nothing(app, world, client, auth, fakes):
    _telegram, sms = fakes
    sms.script = [(503, {})]
    auth.login("producer")
    answer = client.post("/settings/sms/number", data={"csrf_token": csrf(client), "phone": "+85512345678"})
    assert answer.status_code == 422 and "could not be sent" in answer.get_data(as_text=True)
    assert row(app, "producer", "sms") is None


def held_by_others(url: str) -> str | None:
    """What another connection finds held in the database right now: SQLite's write lock, or
    on PostgreSQL a transaction left open; None when nothing is."""
    engine = create_engine(url, connect_args={"timeout": 0} if url.startswith("sqlite") else {})
    try:
        with engine.connect() as conn:
            if url.startswith("sqlite"):
                try:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                except OperationalError as err:
                    return str(err)
                conn.exec_driver_sql("ROLLBACK")
                return None
            open_ones = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).scalar()
            return f"{open_ones} transactions open" if open_ones else None
    finally:
        engine.dispose()


def the_texted_code_confirms_the_number(app, client, sms) -> bool:
    """The producer types back the code of the first text: the number is then theirs."""
    code = re.search(r"\b(\d{6})\b", sms.messages[0]["textMessage"]["text"]).group(1)
    ok = client.post("/settings/sms/confirm", data={"csrf_token": csrf(client), "code": code})
    return ok.status_code == 303 and row(app, "producer", "sms").address == "+85512345678"


@pytest.mark.parametrize("via", ["page", "api"])
def test_no_one_waits_on_the_database_while_the_gateway_sends_a_code(app, world, client, auth, fakes, via):
    _telegram, sms = fakes
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    held = []
    sms.during = lambda: held.append(held_by_others(url))
    sms.delay = 0.3  # a gateway taking its time: other people's writes must not queue behind it
    auth.login("producer")
    if via == "page":
        answer = client.post("/settings/sms/number", data={"csrf_token": csrf(client), "phone": "+85512345678"})
        assert answer.status_code == 303
    else:
        answer = client.post("/api/v1/channels/sms/number", json={"phone": "+85512345678"},
                             headers={"X-CSRFToken": csrf(client)})
        assert answer.status_code == 200, answer.get_data(as_text=True)
    assert held == [None]
    assert the_texted_code_confirms_the_number(app, client, sms)


def test_a_code_request_sent_twice_texts_once_and_its_code_works(app, world, client, auth, fakes):
    _telegram, sms = fakes
    auth.login("producer")
    form = {"csrf_token": csrf(client), "phone": "+85512345678", "client_id": str(uuid.uuid4())}
    assert [client.post("/settings/sms/number", data=form).status_code for _ in range(2)] == [303, 303]
    assert len(sms.messages) == 1
    assert the_texted_code_confirms_the_number(app, client, sms)


def test_sending_codes_is_rate_limited_per_person(app, world, client, auth, fakes):
    _telegram, sms = fakes
    auth.login("producer")
    token = csrf(client)
    statuses = [client.post("/settings/sms/number", data={"csrf_token": token, "phone": "+85512345678"}).status_code
                for _ in range(6)]
    assert statuses[:5] == [303] * 5 and statuses[5] == 429
    assert len(sms.messages) == 5


def test_pausing_and_resuming_a_channel_from_the_settings_page(app, world, client, auth, fakes):
    auth.login("customer")
    client.post("/telegram/webhook", json=update(f"/start {start_link(client)}"), headers=SECRET)
    off = client.post("/settings/channels/telegram/enabled", data={"csrf_token": csrf(client), "enabled": "0"})
    assert off.status_code == 303 and not row(app, "customer", "telegram").enabled
    assert "paused" in client.get("/settings").get_data(as_text=True)
    client.post("/settings/channels/telegram/enabled", data={"csrf_token": csrf(client), "enabled": "1"})
    assert row(app, "customer", "telegram").enabled
    unknown = client.post("/settings/channels/fax/enabled", data={"csrf_token": csrf(client), "enabled": "1"})
    assert unknown.status_code == 404


def test_a_short_link_opens_the_order_for_those_who_may_see_it(app, world, client, auth):
    with app.app_context():
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        n = Notification(user_id=world.users["customer"], event="status_update", order_id=order.id,
                         params={}, url="/orders/SEC-7K3F9Q")
        db.session.add(n)
        db.session.commit()
        from secgo.channels.text import short_code

        path = f"/n/{short_code(n.id)}"
    assert client.get(path).status_code == 302  # log in first, then back here
    auth.login("customer")
    answer = client.get(path)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/orders/SEC-7K3F9Q")
    client.post("/logout", data={"csrf_token": csrf(client, "/offline")})
    auth.login("other_customer")
    assert client.get(path).status_code == 404
    assert client.get("/n/zzzzzzzz").status_code == 404
    assert client.get("/n/not-a-code").status_code == 404


def test_the_api_shows_and_changes_my_channels(app, world, client, auth, fakes):
    _telegram, sms = fakes
    auth.login("producer")
    headers = {"X-CSRFToken": csrf(client)}
    listed = client.get("/api/v1/channels").get_json()["channels"]
    assert [c["channel"] for c in listed] == ["telegram", "sms"] and not any(c["linked"] for c in listed)
    link = client.post("/api/v1/channels/telegram/link", headers={**headers, "Idempotency-Key": "a" * 32})
    assert link.status_code == 201 and link.get_json()["link"].startswith("https://t.me/secgo_test_bot?start=")
    assert client.patch("/api/v1/channels/telegram", json={"enabled": False}, headers=headers).status_code == 409
    client.post("/api/v1/channels/sms/number", json={"phone": "+85512345678"}, headers=headers)
    code = re.search(r"\b(\d{6})\b", sms.messages[0]["textMessage"]["text"]).group(1)
    ok = client.post("/api/v1/channels/sms/confirm", json={"code": code}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["address"] == "+85512345678"
    off = client.patch("/api/v1/channels/sms", json={"enabled": False}, headers=headers)
    assert off.get_json()["enabled"] is False
    assert client.patch("/api/v1/channels/sms", json={"enabled": "no"}, headers=headers).status_code == 422
    assert client.delete("/api/v1/channels/sms", headers=headers).status_code == 204
    assert client.delete("/api/v1/channels/sms", headers=headers).status_code == 404
    # A request id already used to unlink one channel, sent again to unlink another: refused
    # as documented (422), and nothing is unlinked.
    once = {**headers, "Idempotency-Key": "b" * 32}
    assert client.delete("/api/v1/channels/telegram", headers=once).status_code == 204
    mismatch = client.delete("/api/v1/channels/sms", headers=once)
    assert mismatch.status_code == 422 and mismatch.get_json()["error"]["code"] == "idempotency_key_mismatch"
    assert "422" in client.get("/api/v1/openapi.json").get_json()["paths"]["/channels/{channel}"]["delete"]["responses"]


def test_set_webhook_tells_telegram_where_updates_go_with_the_secret(app, runner, fakes):
    telegram, _sms = fakes
    app.config["PUBLIC_URL"] = "https://secgo.example.org"
    result = runner.invoke(args=["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    assert telegram.calls("setWebhook") == [{
        "url": "https://secgo.example.org/telegram/webhook", "secret_token": "test-webhook-secret",
        "allowed_updates": ["message"], "drop_pending_updates": True}]
    telegram.script = [(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})]
    refused = runner.invoke(args=["telegram", "set-webhook"])
    assert refused.exit_code != 0 and "Unauthorized" in refused.output


def test_a_server_telegram_cannot_reach_reads_the_bot_by_long_polling(app, world, client, auth, runner, fakes):
    telegram, _sms = fakes
    auth.login("customer")
    token = start_link(client)
    telegram.updates = [update(f"/start {token}", chat=555, update_id=10),
                        {"update_id": 11, "message": {"chat": {"id": "bad"}, "text": 1}},
                        update("/stop", chat=777, update_id=12)]
    result = runner.invoke(args=["telegram", "poll", "--once"])
    assert result.exit_code == 0, result.output
    assert row(app, "customer", "telegram").address == "555"
    replies = telegram.calls("sendMessage")
    assert [r["chat_id"] for r in replies] == [555, 777] and replies[0]["text"].startswith("Linked")
    polls = telegram.calls("getUpdates")
    assert polls[0] == {"timeout": 0, "allowed_updates": ["message"]}
    assert polls[-1] == {"offset": 13, "timeout": 0} and telegram.updates == []
    again = runner.invoke(args=["telegram", "poll", "--once"])
    assert again.exit_code == 0 and len(telegram.calls("sendMessage")) == 2
