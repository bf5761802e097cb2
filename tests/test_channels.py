"""Telegram and SMS notifications, end to end against local fakes of each provider's API."""
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import delete, select

from secgo import notify
from secgo.channels import services
from secgo.extensions import db
from secgo.models import ChannelDelivery, ChannelLink, Notification, utcnow
from tests.channelfakes import FakeSmsGateway, FakeTelegram
from tests.issue_factories import make_order
from tests.test_push import announce, run, user  # one copy of each

SECRET = {"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret"}


@pytest.fixture
def fakes(app, world):
    with app.app_context():
        db.session.execute(delete(Notification))  # the test world's own events: not ours
        db.session.commit()
    with FakeTelegram() as telegram, FakeSmsGateway() as sms:
        app.config["TELEGRAM_API_URL"] = telegram.origin
        app.config["SMS_GATEWAY_URL"] = sms.origin
        app.config["PUBLIC_URL"] = "https://secgo.example.org"
        yield telegram, sms


def link(name, *, chat=None, number=None, locale=None):
    """Link a person's Telegram chat and/or SMS number as the settings page would end up."""
    person = user(name)
    if locale:
        person.locale = locale
    if chat is not None:
        db.session.add(ChannelLink(user_id=person.id, channel="telegram", address=str(chat),
                                   enabled=True, confirmed_at=utcnow(), attempts=0))
    if number is not None:
        db.session.add(ChannelLink(user_id=person.id, channel="sms", address=number,
                                   enabled=True, confirmed_at=utcnow(), attempts=0))
    db.session.commit()
    return person


def state(app):
    with app.app_context():
        return {n.event: (n.state, n.attempts) for n in db.session.scalars(select(Notification))}


# Every event a customer's order can bring. The reminders worker drops, for this customer, the
# confirmation reminder (nothing waits for them) and the coordinators' digest and follow-ups: their channel
# texts are checked in test_channel_texts, their sending rules in test_reminders.
EVENTS = [e for e in notify.EVENTS if e not in ("remind_confirm", "weekly_digest", "remind_match")]


def test_every_event_reaches_telegram_and_sms_once_each_with_the_exact_requests(app, world, fakes):
    telegram, sms = fakes
    with app.app_context():
        link("customer", chat=777001, number="+66812345678")
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        for event in EVENTS:
            announce(event, ["customer"], order)
    # Sent in the recipient's daytime: reminders wait out 21:00-07:00 (whatever the real clock says).
    day = (utcnow() + timedelta(days=1)).replace(hour=3, minute=0)  # 10:00 in Bangkok
    first, second = run(app, now=day), run(app, now=day)
    assert first.messages == 2 * len(EVENTS) and second.messages == 0
    assert {s for s, _ in state(app).values()} == {"sent"}
    assert not telegram.errors and not sms.errors
    assert len(telegram.sent) == len(EVENTS) == len(sms.messages)
    for request in telegram.requests:
        assert request["path"] == "/bot123456:test-token/sendMessage"
    message = telegram.calls("sendMessage")[0]
    assert set(message) == {"chat_id", "text", "parse_mode", "reply_markup", "link_preview_options"}
    assert message["chat_id"] == 777001 and message["parse_mode"] == "HTML"
    assert message["text"].startswith("<b>Order SEC-7K3F9Q: ")
    assert message["reply_markup"] == {"inline_keyboard": [[{
        "text": "Open in SEC GO!", "url": "https://secgo.example.org/orders/SEC-7K3F9Q"}]]}
    for request in sms.requests:
        assert request["method"] == "POST" and request["path"] == "/message"
        assert request["headers"]["authorization"] == "Basic c21zOnRlc3QtcGFzc3dvcmQ="
    body = sms.messages[0]
    assert body["phoneNumbers"] == ["+66812345678"] and body["id"].startswith("secgo-n")
    assert re.search(r"\nhttps://secgo\.example\.org/n/[0-9a-z]+$", body["textMessage"]["text"])


def test_a_burmese_recipient_gets_burmese_on_telegram_and_by_sms(app, world, fakes):
    telegram, sms = fakes
    with app.app_context():
        link("customer", chat=1, number="+66812345678", locale="my")
        link("producer", chat=2)
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        announce("status_update", ["customer", "producer"], order)
        with force_locale("my"):
            heading = gettext("Order %(reference)s: %(status)s", reference="SEC-7K3F9Q",
                              status=gettext("At border"))
            button = gettext("Open in SEC GO!")
    assert heading != "Order SEC-7K3F9Q: At border"
    run(app)
    burmese = next(m for m in telegram.sent if m["chat_id"] == 1)
    english = next(m for m in telegram.sent if m["chat_id"] == 2)
    assert burmese["text"].startswith(f"<b>{heading}</b>")
    assert burmese["reply_markup"]["inline_keyboard"][0][0]["text"] == button
    assert english["text"].startswith("<b>Order SEC-7K3F9Q: At border</b>")
    assert sms.messages[0]["textMessage"]["text"].startswith(f"SEC GO! {heading}\n")


def test_text_people_typed_is_escaped_for_telegram_html(app, world, fakes):
    telegram, _sms = fakes
    with app.app_context():
        link("customer", chat=5)
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        announce("issue_opened", ["customer"], order, title='<a href="x">10 bags</a> & <b>wet')
    run(app)
    assert not telegram.errors
    assert "&lt;a href=\"x\"&gt;10 bags&lt;/a&gt; &amp; &lt;b&gt;wet" in telegram.sent[0]["text"]


def test_a_failing_provider_is_retried_with_back_off_and_holds_up_nothing_else(app, world, fakes):
    telegram, sms = fakes
    # A flood limit first (for that chat: the next chat is still tried), then an outage.
    telegram.script = [(429, {"ok": False, "error_code": 429, "description": "Too Many Requests",
                              "parameters": {"retry_after": 120}}),
                       (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})]
    with app.app_context():
        link("customer", chat=9, number="+66812345678")
        link("producer", chat=10)
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        announce("status_update", ["customer"], order)
        announce("delivery", ["producer"], order)
    now = utcnow()
    stats = run(app, now=now)
    assert stats.retried == 2
    # The SMS went at once; the other notification waits its turn, not behind the first.
    assert len(sms.messages) == 1 and telegram.sent == []
    with app.app_context():
        due = {n.event: n.next_attempt_at for n in db.session.scalars(select(Notification))}
    assert min(due.values()) >= now + timedelta(seconds=30)
    assert max(due.values()) >= now + timedelta(seconds=120)  # Telegram's retry_after honoured
    later = now + timedelta(hours=1)
    run(app, now=later)
    assert {s for s, _ in state(app).values()} == {"sent"}
    assert len(sms.messages) == 1  # not again
    assert sorted(m["chat_id"] for m in telegram.sent) == [9, 10]


def test_a_provider_that_hangs_times_out_in_seconds_once_per_pass_and_holds_up_no_one(app, world, fakes):
    """Telegram takes the request but does not answer: the pass gives up after its timeout,
    once, not once per notification; every SMS goes meanwhile; the next pass sends what
    waited (the one in doubt quietly), each once."""
    import threading
    import time

    telegram, sms = fakes
    app.config["CHANNEL_TIMEOUT_SECONDS"] = 0.5
    telegram.hold = threading.Event()  # Telegram answers only when the test lets it
    numbers = {"customer": "+66812345678", "producer": "+85512345678", "coordinator": "+84912345678"}
    with app.app_context():
        for chat, (name, number) in enumerate(numbers.items(), start=1):
            link(name, chat=chat, number=number)
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        for name in numbers:
            announce("status_update", [name], order)
    started = time.monotonic()
    stats = run(app)
    took = time.monotonic() - started
    # The pass ended while Telegram still held its answer (for up to 60 s): it did not wait.
    assert not telegram.hold.is_set() and took < 30, took
    assert len(telegram.requests) == 1 and stats.retried == 3  # one timeout, not three
    assert sorted(m["phoneNumbers"][0] for m in sms.messages) == sorted(numbers.values())
    telegram.hold.set()
    telegram.hold = None
    later = run(app, now=utcnow() + timedelta(hours=1))
    assert later.in_doubt == 1 and {s for s, _ in state(app).values()} == {"sent"}
    assert sorted(m["chat_id"] for m in telegram.sent) == [1, 1, 2, 3]  # chat 1 got it, late
    assert [m.get("disable_notification") for m in telegram.sent if m["chat_id"] == 1] == [None, True]
    assert len(sms.messages) == 3  # not again


def test_a_blocked_bot_unlinks_the_chat_and_nothing_more_is_sent_there(app, world, fakes):
    telegram, _sms = fakes
    telegram.script = [(403, {"ok": False, "error_code": 403,
                              "description": "Forbidden: bot was blocked by the user"})]
    with app.app_context():
        link("customer", chat=44)
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        announce("status_update", ["customer"], order)
    run(app)
    with app.app_context():
        row = db.session.scalar(select(ChannelLink).where(ChannelLink.channel == "telegram"))
        assert row.address is None and not row.enabled
        announce("delivery", ["customer"], db.session.merge(order))
    run(app)
    assert len(telegram.requests) == 1 and telegram.sent == []


def test_a_message_sent_is_never_sent_again_and_one_in_doubt_is_sent_again_quietly(app, world, fakes):
    """A worker that died after Telegram took a message but before it finished the row; and
    one that died while the request was out (its delivery still "sending")."""
    telegram, sms = fakes
    with app.app_context():
        link("customer", chat=3, number="+66812345678")
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        announce("status_update", ["customer"], order)
        n = db.session.scalar(select(Notification))
        db.session.add(ChannelDelivery(notification_id=n.id, channel="sms", state="sent", status_code=202))
        db.session.add(ChannelDelivery(notification_id=n.id, channel="telegram", state="sending"))
        db.session.commit()
    stats = run(app)
    assert stats.in_doubt == 1 and sms.messages == []
    assert len(telegram.sent) == 1 and telegram.sent[0]["disable_notification"] is True
    assert state(app)["status_update"][0] == "sent"
    run(app)
    assert len(telegram.sent) == 1


def test_a_redirect_is_never_followed_and_only_the_configured_host_is_called(app, world, fakes):
    import requests

    from secgo.channels import clients

    telegram, sms = fakes
    with FakeTelegram() as elsewhere, FakeSmsGateway() as elsewhere_sms:
        telegram.script = [(307, {}, {"Location": f"{elsewhere.origin}/bot123456:test-token/sendMessage"})]
        sms.script = [(302, {}, {"Location": f"{elsewhere_sms.origin}/message"})]
        with app.app_context():
            link("customer", chat=3, number="+66812345678")
            order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
            announce("status_update", ["customer"], order)
        stats = run(app)
        assert elsewhere.requests == [] and elsewhere_sms.requests == [] and stats.retried == 1
        assert len(telegram.requests) == 1 and len(sms.requests) == 1
        # A provider address that hides another host (user info) is refused before any call.
        app.config["TELEGRAM_API_URL"] = f"{telegram.origin}@{elsewhere.origin.split('//')[1]}"
        app.config["SMS_GATEWAY_URL"] = f"{sms.origin}@{elsewhere_sms.origin.split('//')[1]}"
        with app.app_context(), requests.Session() as http:
            outcome, _ = clients.telegram_call(http, "sendMessage", {"chat_id": 1, "text": "x"})
            assert outcome.kind == "failed" and "allow-list" in outcome.error
            outcome = clients.sms_send(http, "+66812345678", "x")
            assert outcome.kind == "failed" and "allow-list" in outcome.error
        assert elsewhere.requests == [] == elsewhere_sms.requests
        assert len(telegram.requests) == 1 and len(sms.requests) == 1


def test_a_paused_channel_gets_nothing_and_push_alone_skips_it(app, world, fakes):
    telegram, sms = fakes
    with app.app_context():
        link("customer", chat=3, number="+66812345678")
        services.set_enabled(user("customer"), "telegram", False)
        db.session.commit()
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        announce("status_update", ["customer"], order)
    run(app)
    assert telegram.requests == [] and len(sms.messages) == 1


def test_an_unconfigured_channel_sends_nothing(app, world, fakes):
    telegram, sms = fakes
    app.config["SMS_GATEWAY_URL"] = None
    with app.app_context():
        link("customer", number="+66812345678")
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        announce("status_update", ["customer"], order)
    run(app)
    assert sms.requests == [] and state(app)["status_update"][0] == "skipped"
