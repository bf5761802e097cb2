"""Business-matching follow-ups through the reminder machinery, with a frozen clock: 3, 6 and
12 months after an event, to the coordinators who see it, about the matches not yet at a repeat
order; once each (several scans, several workers), never at night, switchable per device, in
the recipient's language."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import Match, MatchFollowUp, MatchingEvent, MatchStep, Organization
from secgo.notify.reminders import add_months
from tests.test_push import subscribe, user
from secgo.push.vapid import load_keys
from tests.pushservice import PushService
from tests.test_reminders import BANGKOK, YANGON, local, pushes, set_zone, work

HELD = date(2025, 12, 1)


@pytest.fixture
def service(app, world):
    """A real push service on 127.0.0.1 that decrypts every push (tests/pushservice.py)."""
    with app.app_context():
        key = load_keys().application_server_key
    with PushService(key) as svc:
        app.config["PUSH_ALLOWED_HOSTS"] = svc.origin
        yield svc  # 3 months later: 2026-03-01 (the reminder tests' March)


def forum(world, stages=("matched", "sample_sent", "repeat_order")):
    """An event on HELD with one match per stage, each the buyer with a farm of the rice
    cluster; its id."""
    buyer = db.session.get(Organization, world.orgs["buyer"])
    farms = [Organization(kind="producer", name=f"Rice farm {i}", country="KH",
                          cluster_id=world.clusters["rice"]) for i in range(len(stages))]
    event = MatchingEvent(name="Mekong forum", place="Phnom Penh", held_on=HELD, organizations=[buyer, *farms])
    db.session.add(event)
    db.session.flush()
    for farm, stage in zip(farms, stages, strict=True):
        match = Match(event_id=event.id, buyer_org_id=buyer.id, producer_org_id=farm.id, products="rice",
                      stage=stage, stage_on=HELD)
        db.session.add(match)
        db.session.flush()
        db.session.add(MatchStep(match_id=match.id, stage=stage, on=HELD))
    db.session.commit()
    return event.id


def test_months_are_added_as_a_calendar_does():
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 12, 1), 12) == date(2026, 12, 1)
    assert add_months(date(2024, 11, 29), 3) == date(2025, 2, 28)


def test_the_coordinator_is_reminded_three_months_after_the_event_once_and_nobody_else(app, world, service):
    with app.app_context():
        phone = subscribe(service, "coordinator")
        silk = subscribe(service, "other_coordinator")
        farmer = subscribe(service, "producer")
        event = forum(world, stages=("matched", "sample_sent"))
    work(app, local(BANGKOK, 1, 6))  # 2026-03-01 06:00: the 3 months are due, but it is night
    assert pushes(service, phone, "remind_match") == []
    work(app, local(BANGKOK, 1, 7, 1))
    [push] = pushes(service, phone, "remind_match")
    assert push["title"] == "Follow up: Mekong forum"
    assert push["body"] == "2 matches have not reached a repeat order 3 months after the event."
    assert push["url"] == f"/matching/{event}"
    for later in (local(BANGKOK, 1, 12), local(BANGKOK, 20, 12)):  # scanned again: not twice
        work(app, later)
    assert len(pushes(service, phone, "remind_match")) == 1
    assert pushes(service, silk, "remind_match") == [] == pushes(service, farmer, "remind_match")


def test_only_the_latest_milestone_is_given_and_not_when_every_match_is_settled(app, world, service):
    with app.app_context():
        phone = subscribe(service, "coordinator")
        forum(world, stages=("contacted",))
        settled = forum(world, stages=("repeat_order", "dropped"))
    # The worker first runs 6 months and 10 days after: the 6-month one only, for the open event.
    work(app, local(BANGKOK, 1, 12) + timedelta(days=92 + 10))
    [push] = pushes(service, phone, "remind_match")
    assert "6 months" in push["body"] and push["body"].startswith("1 match has")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MatchFollowUp)) == 1
        assert not db.session.scalar(select(MatchFollowUp).where(MatchFollowUp.event_id == settled))


def test_a_follow_up_is_a_choice_per_device_and_is_worded_in_the_recipients_language(app, world, service):
    with app.app_context():
        off = subscribe(service, "coordinator", events=["weekly_digest"])
        on = subscribe(service, "coordinator", events=["remind_match"])
        user("coordinator").locale = "km"
        set_zone("coordinator", "Asia/Yangon")
        forum(world)
    work(app, local(YANGON, 1, 7, 15))
    assert pushes(service, off, "remind_match") == []
    [push] = pushes(service, on, "remind_match")
    assert push["lang"] == "km" and "Follow up" not in push["title"] and "Mekong forum" in push["title"]
    assert "2" in push["body"] and "3" in push["body"]


def test_a_follow_up_held_overnight_is_dropped_when_the_coordinator_no_longer_sees_the_event(app, world, service):
    with app.app_context():
        phone = subscribe(service, "coordinator")
        forum(world)
    work(app, local(BANGKOK, 1, 6))  # written, held until 07:00
    with app.app_context():
        user("coordinator").clusters = []  # moved off the rice cluster overnight
        db.session.commit()
    work(app, local(BANGKOK, 1, 7, 5))
    assert pushes(service, phone, "remind_match") == []


@pytest.mark.parametrize("app", [{}], indirect=True)
def test_several_scans_at_once_give_one_follow_up(app, world, service):
    """The unique (event, coordinator, months) row is the last word when scans race."""
    from secgo.notify.reminders import _follow_ups, _listeners

    with app.app_context():
        subscribe(service, "coordinator")
        forum(world)
        now = local(BANGKOK, 2, 10)
        listeners = _listeners(now)["remind_match"]
        assert _follow_ups(listeners, now) == 1
        assert _follow_ups(listeners, now) == 0
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(MatchFollowUp)) == 1
