"""A phone's clock hours wrong: when a report happened is believed only where it can be true
(secgo/limits.py event_time), the report is never refused for it, and the timeline keeps the
order in which the server received the reports."""
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from secgo.extensions import db
from secgo.limits import CLOCK_SKEW, event_time
from secgo.models import Order, StatusUpdate, utcnow
from tests.test_api_orders import token_for
from tests.test_orders import NO_CSRF, make_order

with_app = pytest.mark.parametrize("app", NO_CSRF, indirect=True)

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("claimed,expected,wrong", [
    (None, T, False),  # no time given: when the server received it
    (T - timedelta(hours=5), T - timedelta(hours=5), False),  # made offline 5 h ago, sent now
    (T - timedelta(days=3), T - timedelta(days=3), False),  # offline for days
    (T + timedelta(minutes=4), T, False),  # a little ahead: never after it was received
    (T + timedelta(hours=3), T, True),  # 3 hours ahead (a wrong zone): the server's time
    (T + timedelta(days=400), T, True),
    (T - timedelta(days=20), T, True),  # before the order existed (created 10 days ago)
    (datetime(1970, 1, 1, tzinfo=UTC), T, True),  # a clock reset to the epoch
    (T - timedelta(days=10) - CLOCK_SKEW + timedelta(seconds=1), T - timedelta(days=10) - CLOCK_SKEW
     + timedelta(seconds=1), False),  # just after the order was created, on a phone a bit late
])
def test_the_rule(claimed, expected, wrong):
    assert event_time(claimed, T, T - timedelta(days=10)) == (expected, wrong)


def post(client, ref, occurred_at, via, headers, note):
    key = str(uuid.uuid4())
    if via == "api":
        return client.post(f"/api/v1/orders/{ref}/updates", headers={**headers, "Idempotency-Key": key},
                           json={"status": "note", "note": note, "occurred_at": occurred_at})
    return client.post(f"/orders/{ref}/updates", headers={"Accept": "application/json", "Idempotency-Key": key},
                       data={"status": "note", "note": note, "occurred_at": occurred_at})


def stored(app, note) -> StatusUpdate:
    with app.app_context():
        row = db.session.scalar(select(StatusUpdate).where(StatusUpdate.note == note))
        db.session.expunge(row)
        return row


@with_app
@pytest.mark.parametrize("via", ["outbox", "api"])
def test_reports_from_a_phone_with_a_wrong_clock_are_kept_with_a_time_that_can_be_true(app, world, client, auth, via):
    ref = make_order(app, world)
    with app.app_context():
        created = db.session.scalar(select(Order.created_at).where(Order.reference == ref))
    headers = token_for(app, "producer") if via == "api" else {}
    if via == "outbox":
        auth.login("producer")
    now = utcnow()
    cases = {
        "three hours ahead": (now + timedelta(hours=3), "server"),
        "a year behind": (now - timedelta(days=365), "server"),
        "reset to 1970": (datetime(1970, 1, 1, tzinfo=UTC), "server"),
        "no zone, 7 hours ahead": ((now + timedelta(hours=7)).replace(tzinfo=None), "server"),
        "made offline an hour ago": (max(created, now - timedelta(hours=1)), "phone"),
        "a minute ahead": (now + timedelta(minutes=1), "server"),
    }
    for note, (when, _) in cases.items():
        answer = post(client, ref, when.isoformat(), via, headers, note)
        assert answer.status_code == 201, (note, answer.get_data(as_text=True))  # never refused for its time
    for note, (when, whose) in cases.items():
        row = stored(app, note)
        assert row.occurred_at <= row.recorded_at, note  # nothing happened after it arrived
        assert row.occurred_at >= created - CLOCK_SKEW, note  # nor before its order existed
        if whose == "phone":
            assert abs(row.occurred_at - when) < timedelta(seconds=1), note
        else:
            assert row.occurred_at == row.recorded_at, note


@with_app
def test_a_malformed_time_is_still_refused_with_a_message_in_the_users_language(app, world, client):
    ref = make_order(app, world)
    answer = post(client, ref, "yesterday at noon", "api", token_for(app, "producer"), "n")
    assert answer.status_code == 422 and "occurred_at" in answer.json["error"]["fields"]


@with_app
def test_the_timeline_keeps_the_order_the_reports_arrived_in_whatever_the_phones_said(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    now = utcnow()
    sent = [("first, clock 5 hours ahead", now + timedelta(hours=5)),
            ("second, clock right", now),
            ("third, clock reset to 2000", datetime(2000, 1, 1, tzinfo=UTC))]
    for note, when in sent:
        assert post(client, ref, when.isoformat(), "outbox", {}, note).status_code == 201
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    positions = [page.index(note) for note, _ in sent]
    assert positions == sorted(positions, reverse=True)  # newest first, as they arrived
    assert not re.search(r"happened .{0,40}(from now|in \d)", page)  # no report "happened" in the future
