"""Web Push end to end: a real push service on 127.0.0.1 checks VAPID and decrypts each push."""
import os
import threading
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import delete, func, select

from secgo import notify
from secgo.extensions import db
from secgo.models import Issue, Notification, PushDelivery, PushSubscription, User, utcnow
from secgo.push import services
from secgo.push.vapid import load_keys
from secgo.push.worker import PushWorker
from tests.issue_factories import make_order, raise_as
from tests.pushservice import PushService

EVENT_PARAMS = {
    "status_update": {"status": "at_border", "correction": False},
    "confirmation": {"status": "dispatched"},
    "delivery": {"condition": "short", "received": "90.000", "issue": None},
    "issue_opened": {"title": "Ten bags short"},
    "issue_comment": {"title": "Ten bags short"},
    "issue_transition": {"title": "Ten bags short", "state": "acknowledged", "action": "acknowledge"},
    "issue_unanswered": {"title": "Ten bags short", "hours": 48},
}
# The events of orders and issues (reminders: tests/test_reminders.py; enquiries: tests/test_profiles.py).
ORDER_EVENTS = [e for e in notify.EVENTS if e not in notify.REMINDERS and e not in notify.ENQUIRY_EVENTS]


@pytest.fixture
def service(app, world):
    with app.app_context():
        key = load_keys().application_server_key
        db.session.execute(delete(Notification))  # the test world's own events: not ours to count
        db.session.commit()
    with PushService(key) as svc:
        app.config["PUSH_ALLOWED_HOSTS"] = f"fcm.googleapis.com,{svc.origin}"
        yield svc


def user(name) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def subscribe(svc, name, events=None, script=()):
    device = svc.new_device(script)
    services.save(user(name), {**svc.subscription(device), "events": events}, "Mozilla/5.0 (Linux; Android 14) Chrome/130")
    db.session.commit()
    return device


def announce(event, names, order, **params):
    notify.enqueue(event, [user(n) for n in names], url=f"/orders/{order.reference}", order=order,
                   params={"reference": order.reference, **EVENT_PARAMS.get(event, {}), **params})
    db.session.commit()


def run(app, **kwargs):
    kwargs.setdefault("check_unanswered", False)
    with app.app_context():
        return PushWorker(app).run_once(**kwargs)


def rows(app):
    with app.app_context():
        return {n.id: (n.state, n.attempts) for n in db.session.scalars(select(Notification))}


def test_each_event_reaches_each_subscribed_device_of_each_recipient_exactly_once(app, world, service):
    with app.app_context():
        phone, laptop = subscribe(service, "customer"), subscribe(service, "customer")
        producer = subscribe(service, "producer")
        coordinator = subscribe(service, "coordinator")
        bystander = subscribe(service, "other_customer")
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-7K3F9Q")
        for event in ORDER_EVENTS:
            announce(event, ["customer", "producer", "coordinator"], order)
        ids = {n.event: n.id for n in db.session.scalars(
            select(Notification).where(Notification.user_id == world.users["customer"]))}
    first, second = run(app), run(app)
    assert service.errors == []
    assert first.claimed == 21 and first.sent == 21 and second.claimed == 0
    counts = service.count()
    assert sorted(counts.values()) == [1] * (len(ORDER_EVENTS) * 4)
    assert not service.for_device(bystander)
    for device in (phone, laptop, producer, coordinator):
        assert len(service.for_device(device)) == len(ORDER_EVENTS)
    by_event = {r.payload["event"]: r for r in service.for_device(phone)}
    for event, nid in ids.items():
        push = by_event[event]
        assert push.payload["id"] == nid
        assert push.payload["reference"] == "SEC-7K3F9Q" and push.payload["tag"] == "order-SEC-7K3F9Q"
        assert push.payload["url"] == "/orders/SEC-7K3F9Q"
        assert "SEC-7K3F9Q" in push.payload["title"] and push.payload["body"]
        assert push.headers["urgency"] == notify.EVENTS[event]
        assert int(push.headers["ttl"]) >= 3 * 24 * 3600
        assert push.claims["aud"] == service.origin and push.claims["sub"] == "mailto:admin@secgo.example"
    assert by_event["status_update"].payload["title"] == "Order SEC-7K3F9Q: At border"
    assert by_event["status_update"].headers["topic"] == "status-SEC-7K3F9Q"
    assert by_event["delivery"].payload["body"] == "Received: 90, Short. An issue was opened."
    assert set(rows(app).values()) == {("sent", 1)}


THAI = {
    "Order %(reference)s: %(status)s": "คำสั่งซื้อ %(reference)s: %(status)s",
    "At border": "ถึงด่านชายแดน",
    "Tap to see the update on the order's timeline.": "แตะเพื่อดูความคืบหน้าของคำสั่งซื้อ",
    "Order %(reference)s: new issue": "คำสั่งซื้อ %(reference)s: มีปัญหาใหม่",
}


@pytest.fixture
def thai_catalog(app, tmp_path):
    """Thai for the push texts where the real catalog has none yet (the real one wins)."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale="th")
    for msgid, msgstr in THAI.items():
        catalog.add(msgid, msgstr)
    folder = tmp_path / "thai" / "th" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "messages.mo", "wb") as fh:
        write_mo(fh, catalog)
    # The app is new and has loaded no Thai catalog yet (each app has its own Flask-Babel).
    config = app.extensions["babel"]
    config.translation_directories = [str(tmp_path / "thai"), *config.translation_directories]


def test_a_thai_customer_gets_the_push_in_thai_and_an_english_producer_in_english(
        app, world, service, thai_catalog):
    with app.app_context():
        user("customer").locale = "th"
        db.session.commit()
        thai, english = subscribe(service, "customer"), subscribe(service, "producer")
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-TH0001")
        announce("status_update", ["customer", "producer"], order)
    run(app)
    [pushed] = [r.payload for r in service.for_device(thai)]
    with app.test_request_context(), force_locale("th"):
        title = gettext("Order %(reference)s: %(status)s", reference="SEC-TH0001",
                        status=gettext("At border"))
        body = gettext("Tap to see the update on the order's timeline.")
    assert (pushed["title"], pushed["body"], pushed["lang"]) == (title, body, "th")
    for text in (pushed["title"].replace("SEC-TH0001", ""), pushed["body"]):
        assert not any("a" <= ch.lower() <= "z" for ch in text), text  # no English leaks
    [other] = [r.payload for r in service.for_device(english)]
    assert other["title"] == "Order SEC-TH0001: At border" and other["lang"] == "en"


def test_a_device_only_gets_the_events_it_chose(app, world, service):
    with app.app_context():
        issues_only = subscribe(service, "customer", events=["issue_opened"])
        everything = subscribe(service, "customer")
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("status_update", ["customer"], order)
        announce("issue_opened", ["customer"], order)
    run(app)
    assert [r.payload["event"] for r in service.for_device(issues_only)] == ["issue_opened"]
    assert sorted(r.payload["event"] for r in service.for_device(everything)) == ["issue_opened", "status_update"]


def test_someone_without_a_device_is_skipped_not_retried(app, world, service):
    with app.app_context():
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("status_update", ["customer"], order)
    stats = run(app)
    assert stats.skipped == 1 and list(rows(app).values()) == [("skipped", 1)]
    assert service.requests == []


def test_a_5xx_is_retried_later_and_the_device_that_got_it_is_not_sent_it_again(app, world, service):
    with app.app_context():
        flaky = subscribe(service, "customer", script=[(503, {})])
        steady = subscribe(service, "customer")
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("status_update", ["customer"], order)
    start = utcnow()
    first = run(app)
    assert first.retried == 1 and len(service.for_device(steady)) == 1 and not service.for_device(flaky)
    with app.app_context():
        n = db.session.scalar(select(Notification))
        assert n.state == "pending" and n.attempts == 1 and n.last_error == "HTTP 503"
        assert n.next_attempt_at >= start + timedelta(seconds=30)  # back-off, not a busy loop
    assert run(app).claimed == 0  # not due yet
    run(app, now=utcnow() + timedelta(minutes=5))
    assert len(service.for_device(flaky)) == 1 and len(service.for_device(steady)) == 1
    assert list(rows(app).values()) == [("sent", 2)]


def test_a_429_waits_as_long_as_retry_after_asks(app, world, service):
    app.config["PUSH_BACKOFF_SECONDS"] = 1
    with app.app_context():
        device = subscribe(service, "customer", script=[(429, {"Retry-After": "600"})])
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("confirmation", ["customer"], order)
    start = utcnow()
    run(app)
    with app.app_context():
        n = db.session.scalar(select(Notification))
        assert n.state == "pending" and n.next_attempt_at >= start + timedelta(seconds=600)
        due = n.next_attempt_at  # 600 s after the try, however long the try took on a busy machine
    assert run(app, now=start + timedelta(seconds=300)).claimed == 0
    run(app, now=due + timedelta(seconds=1))
    assert len(service.for_device(device)) == 1 and list(rows(app).values()) == [("sent", 2)]


def test_back_off_grows_exponentially_then_gives_up_and_keeps_the_row(app, world, service):
    app.config.update(PUSH_MAX_ATTEMPTS=4, PUSH_BACKOFF_SECONDS=10)
    with app.app_context():
        subscribe(service, "customer", script=[(500, {})] * 10)
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("delivery", ["customer"], order)
    now, waits = utcnow(), []
    for _ in range(4):
        run(app, now=now)
        with app.app_context():
            n = db.session.scalar(select(Notification))
            waits.append((n.next_attempt_at - now).total_seconds())
            now = n.next_attempt_at + timedelta(seconds=1)
    assert 10 <= waits[0] < 12 and 20 <= waits[1] < 23 and 40 <= waits[2] < 45
    with app.app_context():
        n = db.session.scalar(select(Notification))
        assert (n.state, n.attempts, n.last_error) == ("failed", 4, "HTTP 500")
        assert db.session.scalar(select(PushSubscription.failures)) == 4
    assert run(app, now=now + timedelta(days=1)).claimed == 0


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_removed(app, world, service, status):
    with app.app_context():
        gone = subscribe(service, "customer", script=[(status, {})])
        alive = subscribe(service, "customer")
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("status_update", ["customer"], order)
        announce("confirmation", ["customer"], order)
    run(app)
    with app.app_context():
        endpoints = set(db.session.scalars(select(PushSubscription.endpoint)))
    assert endpoints == {service.subscription(alive)["endpoint"]}
    assert len(service.for_device(alive)) == 2 and not service.for_device(gone)
    assert [r for r in service.requests if gone.token in r] == [f"POST /push/{gone.token}"]
    assert set(rows(app).values()) == {("sent", 1)}


def test_a_redirect_from_the_push_service_is_never_followed(app, world, service):
    with app.app_context():
        device = subscribe(service, "customer", script=[(307, {"Location": "/trap"}), (301, {"Location": "/trap"})])
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("status_update", ["customer"], order)
    run(app)
    assert service.requests == [f"POST /push/{device.token}"]
    assert list(rows(app).values()) == [("failed", 1)]


def crafted_endpoints(svc):
    port = svc.server.server_address[1]
    token = svc.new_device().token
    return [
        f"http://localhost:{port}/push/{token}",
        f"http://user:pw@127.0.0.1:{port}/push/{token}",
        f"http://fcm.googleapis.com@127.0.0.1:{port}/push/{token}",
        f"http://127.0.0.1:{port}#@fcm.googleapis.com/push/{token}",
        f"https://127.0.0.1:{port}/push/{token}",
        f"http://127.0.0.1:{port + 1}/push/{token}",
        f"http://127.0.0.1/push/{token}",
        f"http://2130706433:{port}/push/{token}",
        f"http://0x7f000001:{port}/push/{token}",
        f"http://[::1]:{port}/push/{token}",
        f"http://127.0.0.1.:{port}/push/{token}",
        f"http://127.0.0.1:{port}\\@fcm.googleapis.com/push/{token}",
        f"http://127.0.0.1%3A{port}/push/{token}",
        f"ftp://127.0.0.1:{port}/push/{token}",
        f"https://fcm.googleapis.com.127.0.0.1.nip.io/push/{token}",
        f"http://fcm.googleapis.com/fcm/send/{token}",
        f"https://fcm.googleapis.com:{port}/fcm/send/{token}",
    ]


def test_a_crafted_endpoint_is_never_called(app, world, service):
    with app.app_context():
        good = service.subscription(service.new_device())
        for endpoint in crafted_endpoints(service):
            db.session.add(PushSubscription(user_id=world.users["customer"], endpoint=endpoint,
                                            p256dh=good["keys"]["p256dh"], auth=good["keys"]["auth"]))
        db.session.commit()
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("status_update", ["customer"], order)
    run(app)
    assert service.requests == []
    with app.app_context():
        assert set(db.session.scalars(select(PushDelivery.state))) == {"failed"}
    assert list(rows(app).values()) == [("failed", 1)]


def test_two_workers_at_once_never_send_twice(app, world, service):
    service.delay = 0.01
    with app.app_context():
        devices = [subscribe(service, "customer"), subscribe(service, "customer"), subscribe(service, "producer")]
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        for i in range(20):
            announce("status_update", ["customer", "producer"], order, status="in_transit", n=i)
    errors = []

    def work():
        try:
            with app.app_context():
                worker = PushWorker(app)
                while worker.run_once(limit=3, check_unanswered=False).claimed:
                    pass
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(repr(err))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and service.errors == []
    counts = service.count()
    assert len(counts) == 20 * len(devices) and set(counts.values()) == {1}
    assert set(rows(app).values()) == {("sent", 1)}


def test_a_worker_whose_lease_ran_out_does_not_send_what_another_has_taken(app, world, service):
    with app.app_context():
        device = subscribe(service, "customer")
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("status_update", ["customer"], order)
        slow = PushWorker(app)
        token, [nid] = slow.claim(10)
    later = utcnow() + timedelta(seconds=301)
    assert run(app, now=later).sent == 1
    with app.app_context():
        from secgo.push.worker import Stats

        slow.process(nid, token, None, Stats())
    assert len(service.for_device(device)) == 1


def test_an_issue_nobody_answers_is_pushed_to_the_coordinators_once(app, world, service):
    with app.app_context():
        coordinator = subscribe(service, "coordinator")
        customer = subscribe(service, "customer")
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        db.session.get(Issue, world.issue).first_response_at = utcnow()  # answered
        old = raise_as("customer", order, title="Ten bags short")  # raised long ago
        db.session.commit()
        fresh = raise_as("customer", order, title="Wrong labels", now=utcnow())
        db.session.commit()
        old_id, fresh_id = old.id, fresh.id
    run(app, check_unanswered=True)
    run(app, check_unanswered=True)
    unanswered = [r.payload for r in service.received if r.payload["event"] == "issue_unanswered"]
    assert [p["body"] for p in unanswered] == ["No answer for 48 hours: Ten bags short"]
    assert service.for_device(coordinator)[-1].payload["event"] == "issue_unanswered"
    assert not [r for r in service.for_device(customer) if r.payload["event"] == "issue_unanswered"]
    with app.app_context():
        flagged = db.session.scalars(select(Notification.issue_id).where(
            Notification.event == "issue_unanswered")).all()
    assert flagged == [old_id] and fresh_id not in flagged


def test_the_payload_only_ever_opens_a_page_of_this_site(app, world, service):
    with app.app_context():
        device = subscribe(service, "customer")
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        for url in ("https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
            notify.enqueue("status_update", [user("customer")], url=url, order=order,
                           params={"reference": order.reference, "status": "ready"})
        db.session.commit()
    run(app)
    assert {r.payload["url"] for r in service.for_device(device)} == {"/"}


def test_the_cli_worker_sends_once_and_exits(app, world, service, runner):
    with app.app_context():
        device = subscribe(service, "customer")
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("status_update", ["customer"], order)
    result = runner.invoke(args=["push-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output and len(service.for_device(device)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PushDelivery)) == 1


def test_two_worker_processes_never_send_twice(app, world, service, tmp_path, database_url):
    import subprocess
    import sys
    from pathlib import Path

    service.delay = 0.04  # long enough for both processes to be at work at once
    with app.app_context():
        devices = [subscribe(service, "customer"), subscribe(service, "customer")]
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        for i in range(25):
            announce("issue_comment", ["customer"], order, n=i)
    env = {**os.environ, "SECGO_DATABASE_URL": database_url, "SECGO_INSTANCE_PATH": str(tmp_path / "instance"),
           "SECGO_PUSH_ALLOWED_HOSTS": service.origin}
    command = [sys.executable, "-m", "flask", "--app", "secgo", "push-worker", "--once", "--limit", "2"]
    root = Path(__file__).resolve().parent.parent
    workers = [subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert service.errors == []
    counts = service.count()
    assert len(counts) == 25 * len(devices) and set(counts.values()) == {1}
    assert all("claimed" in out for out in outputs)


def test_a_minor_issue_does_not_wake_the_coordinator_but_a_high_one_does(app, world, service):
    with app.app_context():
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        raise_as("customer", order, severity="low", title="Label smudged", now=utcnow())
        raise_as("customer", order, severity="high", title="Half the bags missing", now=utcnow())
        db.session.commit()
        got = {(n.user.username, n.params["title"], n.urgency) for n in db.session.scalars(
            select(Notification).where(Notification.event == "issue_opened"))}
    assert ("coordinator", "Label smudged", "normal") not in got
    assert ("producer", "Label smudged", "normal") in got
    assert ("coordinator", "Half the bags missing", "high") in got


def test_a_notification_that_cannot_be_rendered_does_not_hold_up_the_others(app, world, service, monkeypatch):
    from secgo.push import worker as worker_module

    real = worker_module.render

    def fragile(n, user):
        if n.params.get("broken"):
            raise KeyError("reference")
        return real(n, user)

    monkeypatch.setattr(worker_module, "render", fragile)
    with app.app_context():
        device = subscribe(service, "customer")
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        announce("status_update", ["customer"], order, broken=True)
        announce("confirmation", ["customer"], order)
    stats = run(app)
    assert stats.retried == 1 and [r.payload["event"] for r in service.for_device(device)] == ["confirmation"]
    with app.app_context():
        broken = db.session.scalar(select(Notification).where(Notification.event == "status_update"))
        assert (broken.state, broken.attempts, broken.claim_token) == ("pending", 1, None)
        assert broken.last_error == "error: KeyError"


def test_a_buyers_enquiry_reaches_the_devices_that_chose_it(app, world, service):
    """Enquiries (secgo/profiles) go through the same outbox, and each device's event choice holds."""
    from secgo.models import Organization
    from secgo.profiles.services import create_enquiry, reply

    with app.app_context():
        phone = subscribe(service, "producer", events=["enquiry", "enquiry_reply"])
        laptop = subscribe(service, "producer", events=["status_update"])
        buyer_phone = subscribe(service, "customer")
        enquiry = create_enquiry(user("customer"), db.session.get(Organization, world.orgs["farm"]),
                                 {"body": "5 t of jasmine rice in March?", "product": "Jasmine rice"})
        db.session.commit()
        enquiry_id = enquiry.id
    run(app)
    assert service.errors == [] and not service.for_device(laptop) and not service.for_device(buyer_phone)
    [push] = service.for_device(phone)
    assert push.payload["title"] == "Enquiry from Bangkok Buyer" and push.payload["body"] == "About: Jasmine rice"
    assert push.payload["url"] == f"/enquiries/{enquiry_id}" and push.headers["urgency"] == "high"
    with app.app_context():
        reply(user("producer"), db.session.get(type(enquiry), enquiry_id), {"body": "Yes."})
        db.session.commit()
    run(app)
    [answer] = service.for_device(buyer_phone)
    assert answer.payload["title"] == "New answer to an enquiry" and answer.payload["event"] == "enquiry_reply"
    assert len(service.for_device(phone)) == 1  # the producer wrote the answer: not told of it
