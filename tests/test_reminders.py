"""Reminders through the outbox and the push worker, with a frozen clock: each kind when due
and not before, never in the recipient's night, once a day, switchable per device, never about
an order the recipient no longer sees, and never twice with several workers at once."""
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from secgo.config import LOCALES
from secgo.extensions import db
from secgo.models import ChannelLink, Notification, Order, Reminder, StatusUpdate, User
from secgo.notify import EVENT_LABELS, REMINDERS, ROLE_EVENTS
from secgo.push.payload import render
from secgo.push.vapid import load_keys
from secgo.push.worker import PushWorker
from tests.issue_factories import make_order, raise_as
from tests.pushservice import PushService
from tests.test_push import subscribe, user

BANGKOK, YANGON = ZoneInfo("Asia/Bangkok"), ZoneInfo("Asia/Yangon")


@pytest.fixture
def service(app, world):
    """A real push service on 127.0.0.1 that decrypts every push (tests/pushservice.py)."""
    with app.app_context():
        key = load_keys().application_server_key
    with PushService(key) as svc:
        app.config["PUSH_ALLOWED_HOSTS"] = svc.origin
        yield svc


def local(tz, day, hour, minute=0) -> datetime:
    """A moment in March 2026 as a clock in that zone shows it, in UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=tz).astimezone(UTC)


def work(app, now):
    """One pass of the push worker at a frozen time: the reminder scan, then the sending."""
    with app.app_context():
        return PushWorker(app).run_once(now=now, check_unanswered=False, check_reminders=True)


def pushes(svc, device, event=None, reference=None):
    return [r.payload for r in svc.for_device(device)
            if (event is None or r.payload["event"] == event)
            and (reference is None or r.payload["reference"] == reference)]


def add_update(order, at, status="in_production", author="producer"):
    db.session.add(StatusUpdate(order_id=order.id, status=status, note="", author_id=user(author).id,
                                occurred_at=at, recorded_at=at))
    db.session.flush()


def new_order(world, created, *, status="in_production", due=None, producer="farm"):
    """An order of the farm (rice cluster) for the buyer, updated when it was created."""
    order = make_order(world.orgs[producer], world.orgs["buyer"], created_at=created, status=status, due=due)
    add_update(order, created, status=status)
    db.session.commit()
    return order.reference


def set_zone(name, tz):
    user(name).timezone = tz
    db.session.commit()


# --- each kind fires when due, and not before ------------------------------------------

def test_a_producer_is_reminded_of_an_order_with_no_update_for_three_days_and_not_before(app, world, service):
    created = local(BANGKOK, 10, 10)
    with app.app_context():
        phone = subscribe(service, "producer")
        ref = new_order(world, created)
    work(app, created + timedelta(days=3) - timedelta(minutes=1))
    assert pushes(service, phone, "remind_stale", ref) == []
    work(app, created + timedelta(days=3, minutes=1))
    [push] = pushes(service, phone, "remind_stale", ref)
    assert push["title"] == f"Order {ref}: no update for 3 days"
    assert push["body"] == "Your customer is waiting for news. Tap to post the order's status."
    assert push["url"] == f"/orders/{ref}"  # the order's page


def test_an_update_stops_the_stale_reminder_and_the_number_of_days_is_counted(app, world, service):
    created = local(BANGKOK, 10, 10)
    app.config["REMIND_STALE_DAYS"] = 5  # SECGO_REMIND_STALE_DAYS
    with app.app_context():
        phone = subscribe(service, "producer")
        ref = new_order(world, created)
        add_update(db.session.scalar(select(Order).where(Order.reference == ref)),
                   created + timedelta(days=4), status="ready")
        db.session.commit()
    work(app, created + timedelta(days=8))
    assert pushes(service, phone, "remind_stale", ref) == []  # updated 4 days ago: not 5
    work(app, created + timedelta(days=9, hours=1))
    assert [p["title"] for p in pushes(service, phone, "remind_stale", ref)] == [
        f"Order {ref}: no update for 5 days"]


@pytest.mark.parametrize(("value", "days"), [(None, 3), ("5", 5)])
def test_the_stale_days_come_from_secgo_remind_stale_days(value, days):
    env = {k: v for k, v in os.environ.items() if k != "SECGO_REMIND_STALE_DAYS"}
    if value is not None:
        env["SECGO_REMIND_STALE_DAYS"] = value
    shown = subprocess.run([sys.executable, "-c", "from secgo.config import Config; print(Config.REMIND_STALE_DAYS)"],
                           env=env, capture_output=True, text=True, check=True).stdout
    assert shown.strip() == str(days)


def test_a_producer_is_reminded_of_an_order_due_within_two_days_and_not_yet_dispatched(app, world, service):
    with app.app_context():
        phone = subscribe(service, "producer")
        ready = new_order(world, local(BANGKOK, 9, 8), status="ready", due=date(2026, 3, 12))
        gone = new_order(world, local(BANGKOK, 9, 8), status="dispatched", due=date(2026, 3, 12))
    work(app, local(BANGKOK, 9, 9))  # due in three days
    assert pushes(service, phone, "remind_due") == []
    work(app, local(BANGKOK, 10, 9))  # due in two days
    [push] = pushes(service, phone, "remind_due")
    assert push["reference"] == ready and push["url"] == f"/orders/{ready}"
    assert push["title"] == f"Order {ready}: due soon, not dispatched yet"
    assert push["body"] == "Due on Mar 12, 2026. Post its status, or tell your customer about a delay."
    assert not pushes(service, phone, "remind_due", gone)  # on its way already


def test_the_customer_gets_one_reminder_naming_how_many_updates_wait_for_a_day(app, world, service):
    recorded = local(BANGKOK, 10, 10)
    with app.app_context():
        phone = subscribe(service, "customer")
        first = new_order(world, recorded)
        second = new_order(world, recorded)
        add_update(db.session.scalar(select(Order).where(Order.reference == first)), recorded, "ready")
        add_update(db.session.scalar(select(Order).where(Order.reference == second)),
                   recorded + timedelta(hours=2), "ready")  # not a day old at the check
        db.session.commit()
    work(app, recorded + timedelta(hours=23))
    assert pushes(service, phone, "remind_confirm") == []
    work(app, recorded + timedelta(hours=25))
    [push] = pushes(service, phone, "remind_confirm")  # one, not one per update or order
    assert push["title"] == "Updates waiting for your confirmation"
    assert push["body"] == "3 updates have waited more than a day for you to confirm them."
    assert push["url"] == "/orders?awaiting=1"  # the orders list, those awaiting confirmation


def test_the_digest_arrives_on_monday_at_eight_local_time_and_only_once_that_week(app, world, service):
    with app.app_context():
        set_zone("coordinator", "Asia/Yangon")
        phone = subscribe(service, "coordinator")
        elsewhere = subscribe(service, "other_coordinator")
        # The rice cluster: the world's order (due 1 January, its issue raised 2 March and never
        # answered), an answered issue on a new order, an order overdue and one delivered late.
        late = make_order(world.orgs["farm"], world.orgs["buyer"], due=date(2026, 3, 1), status="ready")
        make_order(world.orgs["farm"], world.orgs["buyer"], due=date(2026, 3, 1), status="delivered")
        answered = raise_as("customer", late, severity="low", title="Late", now=local(YANGON, 8, 9))
        answered.first_response_at = local(YANGON, 8, 10)
        # The silk cluster's overdue order is the other coordinator's.
        make_order(world.orgs["weaver"], world.orgs["buyer"], due=date(2026, 3, 1))
        db.session.commit()
    work(app, local(YANGON, 9, 7, 59))  # Monday 9 March, 07:59 in Yangon
    assert pushes(service, phone, "weekly_digest") == []
    work(app, local(YANGON, 9, 8, 0))
    [push] = pushes(service, phone, "weekly_digest")
    assert push["title"] == "Your week on SEC GO!"
    assert push["body"] == "2 open issues · 1 with no answer · 2 overdue orders"
    assert push["url"] == "/coordinator"
    for later in (local(YANGON, 9, 8, 5), local(YANGON, 9, 18), local(YANGON, 10, 8), local(YANGON, 15, 12)):
        work(app, later)
    assert len(pushes(service, phone, "weekly_digest")) == 1
    work(app, local(YANGON, 16, 8))  # the next Monday
    assert len(pushes(service, phone, "weekly_digest")) == 2
    assert [p["body"] for p in pushes(service, elsewhere, "weekly_digest")] == [
        "0 open issues · 0 with no answer · 1 overdue order"] * 2


def test_the_digest_tells_how_promptly_the_week_was_reported(app, world, service):
    with app.app_context():
        set_zone("coordinator", "Asia/Yangon")
        phone = subscribe(service, "coordinator")
        order = make_order(world.orgs["farm"], world.orgs["buyer"], due=date(2026, 3, 30), status="ready")
        # Two reports this week, reaching the server 1 and 3 hours after the fact (median 2 h);
        # the customer confirmed one of them.
        at = datetime(2026, 3, 4, 10, tzinfo=UTC)
        add_update(order, at, status="in_production")
        add_update(order, at + timedelta(days=1), status="ready")
        first, second = db.session.scalars(select(StatusUpdate).where(StatusUpdate.order_id == order.id)
                                           .order_by(StatusUpdate.id)).all()
        first.occurred_at = at - timedelta(hours=1)
        second.occurred_at = at + timedelta(days=1) - timedelta(hours=3)
        first.confirmed_at = at + timedelta(hours=5)
        order.last_activity_at = at + timedelta(days=1)
        db.session.commit()
    work(app, local(YANGON, 9, 8, 0))  # Monday 9 March, 08:00 in Yangon
    [push] = pushes(service, phone, "weekly_digest")
    assert push["body"].endswith(" · 2 updates this week · reported 2 h late (median) · 50% confirmed")


def test_the_digest_tells_how_many_deliveries_were_on_time_and_how_long_the_border_took(app, world, service):
    with app.app_context():
        set_zone("coordinator", "Asia/Yangon")
        phone = subscribe(service, "coordinator")
        order = make_order(world.orgs["farm"], world.orgs["buyer"], due=date(2026, 3, 30), status="delivered",
                           border="bavet_moc_bai", created_at=datetime(2026, 3, 1, tzinfo=UTC))
        # This week: at the border 5 Mar 00:00, reported 2 h later; customs cleared 05:00, reported
        # at once; delivered 6 Mar 00:00, reported 4 h later (median 2 h, none confirmed). On time,
        # and 5 h at the border.
        for status, occurred, late in (("at_border", datetime(2026, 3, 5, tzinfo=UTC), 2),
                                       ("customs_cleared", datetime(2026, 3, 5, 5, tzinfo=UTC), 0),
                                       ("delivered", datetime(2026, 3, 6, tzinfo=UTC), 4)):
            db.session.add(StatusUpdate(order_id=order.id, status=status, note="", author_id=user("producer").id,
                                        occurred_at=occurred, recorded_at=occurred + timedelta(hours=late)))
        order.last_activity_at = datetime(2026, 3, 6, 4, tzinfo=UTC)
        db.session.commit()
    work(app, local(YANGON, 9, 8, 0))  # Monday 9 March, 08:00 in Yangon
    [push] = pushes(service, phone, "weekly_digest")
    assert push["body"].endswith(" · 3 updates this week · reported 2 h late (median) · 0% confirmed"
                                 " · 100% of deliveries on time · 1 shipment waited 5 h at the border (median)")


def test_a_customer_with_only_a_telegram_chat_is_reminded_there(app, world):
    """No phone subscribed to push: the reminder is written for the linked chat to carry."""
    recorded = local(BANGKOK, 10, 10)
    with app.app_context():
        db.session.add(ChannelLink(user_id=user("customer").id, channel="telegram", address="777001",
                                   enabled=True, confirmed_at=recorded, attempts=0))
        order = db.session.scalar(select(Order).where(Order.reference == new_order(world, recorded)))
        add_update(order, recorded, "ready")
        db.session.commit()
        PushWorker(app).run_once(now=recorded + timedelta(hours=25), check_unanswered=False,
                                 check_reminders=True, refresh_figures=False)
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == user("customer").id, Notification.event == "remind_confirm")) == 1


def test_push_worker_once_looks_for_the_reminders_due(app, world, service, runner):
    """`flask push-worker --once` (cron) scans too, at the real clock: a reminder is written
    (sent, or held for the morning when it is night in Bangkok now)."""
    created = datetime.now(UTC) - timedelta(days=4)
    with app.app_context():
        subscribe(service, "producer")
        ref = new_order(world, created)
    result = runner.invoke(args=["push-worker", "--once"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        [state] = db.session.scalars(select(Notification.state).where(
            Notification.event == "remind_stale", Notification.params["reference"].as_string() == ref)).all()
        assert state in ("sent", "pending")


# --- quiet hours, once a day, the device's choice ---------------------------------------

@pytest.mark.parametrize("tz", ["Asia/Yangon", "Asia/Bangkok"])
def test_no_reminder_arrives_between_nine_at_night_and_seven_in_the_morning(app, world, service, tz):
    zone = ZoneInfo(tz)
    created = local(zone, 6, 20)
    with app.app_context():
        set_zone("producer", tz)
        phone = subscribe(service, "producer")
        ref = new_order(world, created)
    work(app, local(zone, 9, 21, 0))  # due since 20:00; now it is 21:00 where they are
    assert pushes(service, phone, "remind_stale", ref) == []
    with app.app_context():  # held, not dropped
        [held] = db.session.scalars(select(Notification).where(Notification.event == "remind_stale",
                                                                Notification.params["reference"].as_string() == ref))
        assert held.state == "pending" and held.next_attempt_at == local(zone, 10, 7)
    work(app, local(zone, 10, 3))
    work(app, local(zone, 10, 6, 59))
    assert pushes(service, phone, "remind_stale", ref) == []
    work(app, local(zone, 10, 7, 0))
    assert len(pushes(service, phone, "remind_stale", ref)) == 1
    work(app, local(zone, 10, 12))  # that was today's
    assert len(pushes(service, phone, "remind_stale", ref)) == 1


@pytest.mark.parametrize("tz", ["Asia/Yangon", "Asia/Bangkok"])
def test_a_reminder_due_in_the_evening_goes_at_once_until_nine(app, world, service, tz):
    zone = ZoneInfo(tz)
    with app.app_context():
        set_zone("producer", tz)
        phone = subscribe(service, "producer")
        ref = new_order(world, local(zone, 6, 12))
    work(app, local(zone, 9, 20, 59))
    assert len(pushes(service, phone, "remind_stale", ref)) == 1


def test_a_reminder_left_in_the_outbox_until_night_waits_for_the_morning(app, world, service):
    with app.app_context():
        set_zone("producer", "Asia/Yangon")
        phone = subscribe(service, "producer")
        ref = new_order(world, local(YANGON, 6, 12))
        worker = PushWorker(app)
        worker.run_once(now=local(YANGON, 9, 20, 50), check_unanswered=False, check_reminders=True, limit=0)
    work(app, local(YANGON, 9, 21, 30))  # a worker that was down until after nine
    assert pushes(service, phone, "remind_stale", ref) == []
    work(app, local(YANGON, 10, 7))
    assert len(pushes(service, phone, "remind_stale", ref)) == 1


def test_at_most_one_reminder_per_order_per_person_per_day(app, world, service):
    with app.app_context():
        phone, laptop = subscribe(service, "producer"), subscribe(service, "producer")
        ref = new_order(world, local(BANGKOK, 1, 12))
    for hour in (7, 9, 13, 20):
        work(app, local(BANGKOK, 9, hour))
    work(app, local(BANGKOK, 9, 22))  # tonight's: tomorrow's reminder, held until 07:00
    work(app, local(BANGKOK, 10, 7))
    work(app, local(BANGKOK, 10, 8))
    for device in (phone, laptop):
        assert len(pushes(service, device, "remind_stale", ref)) == 2  # Monday's and Tuesday's
    with app.app_context():
        days = db.session.scalars(select(Reminder.day).where(Reminder.kind == "remind_stale")
                                  .join(Order, Order.id == Reminder.order_key)
                                  .where(Order.reference == ref).order_by(Reminder.day)).all()
    assert days == [date(2026, 3, 9), date(2026, 3, 10)]


def test_a_device_that_switched_a_kind_off_gets_no_such_reminder(app, world, service):
    from secgo.push import services

    with app.app_context():
        off = subscribe(service, "producer", events=["status_update", "remind_due"])
        on = subscribe(service, "customer")
        ref = new_order(world, local(BANGKOK, 1, 12))
    work(app, local(BANGKOK, 9, 9))
    assert pushes(service, off, "remind_stale") == []
    assert len(pushes(service, on, "remind_confirm")) == 1
    with app.app_context():  # switched on again on the settings page
        services.save(user("producer"), {**service.subscription(off), "events": ["remind_stale"]}, "")
        db.session.commit()
    work(app, local(BANGKOK, 10, 9))
    assert sorted(p["reference"] for p in pushes(service, off, "remind_stale")) == sorted([ref, "SEC-WRLD01"])


def test_each_kind_is_a_choice_on_the_settings_page_of_the_role_it_is_for(app, world, client, auth):
    for name, offered, absent in (
        ("producer", ["remind_stale", "remind_due"], ["remind_confirm", "weekly_digest", "remind_match"]),
        ("customer", ["remind_confirm"], ["remind_stale", "weekly_digest", "remind_match"]),
        ("coordinator", ["weekly_digest", "issue_unanswered", "remind_match"], ["remind_stale", "remind_confirm"]),
    ):
        auth.login(name)
        html = client.get("/settings").get_data(as_text=True)
        for kind in offered:
            assert f'value="{kind}"' in html and str(EVENT_LABELS[kind]) in html
        for kind in absent:
            assert f'value="{kind}"' not in html
        auth.logout()
    assert set(REMINDERS) <= {e for events in ROLE_EVENTS.values() for e in events}


# --- who may still see it -----------------------------------------------------------------

def test_a_producer_moved_to_another_organization_is_no_longer_reminded_of_its_orders(app, world, service):
    with app.app_context():
        phone = subscribe(service, "producer")
        ref = new_order(world, local(BANGKOK, 1, 12))
    work(app, local(BANGKOK, 9, 9))
    assert len(pushes(service, phone, "remind_stale", ref)) == 1
    work(app, local(BANGKOK, 9, 22))  # tomorrow's reminder, held for the morning
    with app.app_context():
        user("producer").organization_id = world.orgs["weaver"]
        db.session.commit()
    work(app, local(BANGKOK, 10, 7))
    work(app, local(BANGKOK, 11, 9))
    assert len(pushes(service, phone, "remind_stale", ref)) == 1
    with app.app_context():
        states = db.session.scalars(select(Notification.state).where(Notification.event == "remind_stale")
                                    .order_by(Notification.id)).all()
    assert "skipped" in states and "pending" not in states


def test_a_deactivated_person_gets_no_reminder(app, world, service):
    with app.app_context():
        phone = subscribe(service, "customer")
        new_order(world, local(BANGKOK, 1, 12))
    work(app, local(BANGKOK, 9, 22))  # held until the morning
    with app.app_context():
        user("customer").active = False
        db.session.commit()
    work(app, local(BANGKOK, 10, 7))
    work(app, local(BANGKOK, 11, 9))
    assert pushes(service, phone) == []


def test_updates_confirmed_overnight_cancel_the_morning_reminder(app, world, service):
    with app.app_context():
        phone = subscribe(service, "customer")
        new_order(world, local(BANGKOK, 1, 12))
    work(app, local(BANGKOK, 9, 22))
    with app.app_context():
        db.session.execute(update(StatusUpdate).values(confirmed_at=local(BANGKOK, 9, 23),
                                                       confirmed_by_id=user("customer").id))
        db.session.commit()
    work(app, local(BANGKOK, 10, 7))
    assert pushes(service, phone, "remind_confirm") == []


def test_a_report_posted_overnight_cancels_the_morning_reminder_about_it(app, world, service):
    with app.app_context():
        phone = subscribe(service, "producer")
        stale = new_order(world, local(BANGKOK, 6, 12))
        due = new_order(world, local(BANGKOK, 8, 12), status="ready", due=date(2026, 3, 11))
        quiet = new_order(world, local(BANGKOK, 6, 12))
    work(app, local(BANGKOK, 9, 22))  # tomorrow's reminders, held until 07:00
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.event.in_(("remind_stale", "remind_due")), Notification.state == "pending")) == 4
        orders = {ref: db.session.scalar(select(Order).where(Order.reference == ref)) for ref in (stale, due)}
        add_update(orders[stale], local(BANGKOK, 9, 23), status="ready")  # the producer reported at 23:00
        add_update(orders[due], local(BANGKOK, 9, 23), status="dispatched")
        orders[due].status = "dispatched"
        db.session.commit()
    work(app, local(BANGKOK, 10, 7))
    assert pushes(service, phone, "remind_stale", stale) == [] and pushes(service, phone, "remind_due") == []
    assert len(pushes(service, phone, "remind_stale", quiet)) == 1  # nothing reported on this one


def test_a_coordinator_only_hears_of_their_own_clusters(app, world, service):
    with app.app_context():
        phone = subscribe(service, "other_coordinator")
    work(app, local(BANGKOK, 9, 9))
    [push] = pushes(service, phone)
    assert push["event"] == "weekly_digest"
    assert push["body"] == "0 open issues · 0 with no answer · 0 overdue orders"


# --- several workers at once ------------------------------------------------------------

def test_two_workers_scanning_at_once_never_remind_twice(app, world, service):
    with app.app_context():
        devices = [subscribe(service, "producer"), subscribe(service, "customer"),
                   subscribe(service, "coordinator")]
        refs = [new_order(world, local(BANGKOK, 1, 12)) for _ in range(12)]
    now = local(BANGKOK, 9, 9)
    start = threading.Barrier(3)
    errors = []

    def scan():
        try:
            with app.app_context():
                worker = PushWorker(app)
                start.wait(30)
                worker.run_once(now=now, check_unanswered=False, check_reminders=True, limit=5)
                while worker.run_once(now=now, check_unanswered=False, limit=5).claimed:
                    pass
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(repr(err))

    threads = [threading.Thread(target=scan) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and service.errors == []
    counts = service.count()
    assert set(counts.values()) == {1}  # no device got any push twice
    stale = [p["reference"] for p in pushes(service, devices[0], "remind_stale")]
    assert sorted(stale) == sorted([*refs, "SEC-WRLD01"])
    assert len(pushes(service, devices[1], "remind_confirm")) == 1
    assert len(pushes(service, devices[2], "weekly_digest")) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reminder)) == len(refs) + 1 + 2
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.event.in_(REMINDERS))) == len(refs) + 1 + 2


# --- words in every language ------------------------------------------------------------

REMINDER_PARAMS = {
    "remind_stale": {"reference": "SEC-7K3F9Q", "days": 4},
    "remind_due": {"reference": "SEC-7K3F9Q", "due": "2026-03-12"},
    "remind_confirm": {"count": 3},
    "weekly_digest": {"open_issues": 5, "unanswered": 2, "overdue": 3, "hours": 48, "week": "2026-03-09",
                      "updates": 14, "delay_median_hours": 2.5, "confirmed_share": 50, "delivered": 6,
                      "on_time_share": 83, "shipments": 7, "border_median_hours": 12.5},
    "remind_match": {"event_id": 1, "event": "Mekong forum", "months": 6, "count": 3},
}


@pytest.mark.parametrize("locale", [code for code in LOCALES if code != "en"])
def test_every_reminder_is_worded_in_the_recipients_language(app, world, locale):
    with app.app_context():
        person = db.session.get(User, world.users["producer"])
        for event, params in REMINDER_PARAMS.items():
            n = Notification(id=1, user_id=person.id, event=event, params=params, url="/", urgency="normal")
            person.locale = "en"
            english = render(n, person)
            person.locale = locale
            payload = render(n, person)
            assert payload["lang"] == locale
            for part in ("title", "body"):
                assert payload[part] and payload[part] != english[part], (event, part)
                assert "%(" not in payload[part] and "%s" not in payload[part]
            if "reference" in params:
                assert "SEC-7K3F9Q" in payload["title"]
            text = payload["title"] + payload["body"]
            assert all(str(number) in text for number in (params.get("count"), params.get("days"),
                                                          params.get("open_issues"), params.get("updates"),
                                                          params.get("shipments")) if number)
        for kind in REMINDERS:
            with force_locale("en"):
                english_label = str(EVENT_LABELS[kind])
            with force_locale(locale):
                assert str(EVENT_LABELS[kind]) != english_label
        db.session.rollback()


def test_a_failing_reminder_scan_does_not_hold_up_the_notifications_already_queued(app, world, service, monkeypatch):
    from secgo import notify
    from secgo.notify import reminders

    def broken(now=None):
        raise RuntimeError("scan failed")

    monkeypatch.setattr(reminders, "scan", broken)
    now = local(BANGKOK, 9, 9)
    with app.app_context():
        phone = subscribe(service, "customer")
        order = db.session.scalar(select(Order).where(Order.reference == "SEC-WRLD01"))
        notify.enqueue("status_update", [user("customer")], url="/orders/SEC-WRLD01", order=order,
                       params={"reference": "SEC-WRLD01", "status": "ready"}, not_before=now)
        db.session.commit()
    assert work(app, now).sent == 1
    assert [p["event"] for p in pushes(service, phone)] == ["status_update"]
