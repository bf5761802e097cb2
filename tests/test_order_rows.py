"""The orders list writes each order's row once per process and version (secgo/orders/routes.py,
order_rows): a list made with kept rows is, byte for byte, the list made whole, after any
change to what a row shows, for every role and language."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from secgo.extensions import db
from secgo.models import Order, User
from secgo.orders import services
from tests.test_pagecache import (EVERYONE, _comment, _confirmation, _customer_renamed, _delivery, _in_request,
                                  _issue, _new_order, _producer_renamed, _signed_in, _status_update, _transition)

pytestmark = pytest.mark.parametrize(
    "app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "PAGE_CACHE": False}], indirect=True)


TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')  # (signed with the second it was made)


def _page(client) -> str:
    return TOKEN.sub("", client.get("/orders").get_data(as_text=True))


def _kept_rows(app):
    return app.extensions.get("secgo.order_rows")


def _lists(app, clients) -> dict:
    """Each person's orders list, made with the rows kept so far, checked against
    the same list made with no row kept."""
    pages = {}
    for name, client in clients.items():
        with_kept = _page(client)
        kept = _kept_rows(app)
        saved = dict(kept.items) if kept else {}
        if kept:
            kept.items.clear()
        whole = _page(client)
        if kept:
            kept.items.update(saved)
        assert with_kept == whole, name
        pages[name] = with_kept
    return pages


def _read_it(person, order):
    """The producer opens the order (its news is read: no "New activity" on their row)."""
    from secgo import readmarks

    readmarks._upsert(db.session.connection(), [{"user_id": person("producer").id, "kind": "order",
                                                 "target_id": order.id, "seen_at": order.last_activity_at}])


def _status_by_the_customer(person, order):
    services.post_update(person("customer"), order, {"status": "note", "note": "When?"})


@pytest.mark.parametrize("language", ["km", "my", "en"])
def test_a_list_with_kept_rows_is_the_list_made_whole_after_every_change(app, world, language):
    from tests.factories import matrix_update

    with app.app_context():
        matrix_update(world)  # one update waiting for the customer's confirmation
        for person in db.session.scalars(select(User)):
            person.locale = language
        db.session.commit()
    clients = _signed_in(app, EVERYONE)
    before = _lists(app, clients)
    assert len(_kept_rows(app).items) > 0
    for change in (_status_by_the_customer, _read_it, _new_order, _status_update, _confirmation, _issue,
                   _comment, _transition, _producer_renamed, _customer_renamed, _delivery):
        _in_request(app, change)
        after = _lists(app, clients)
        if change is not _transition:  # (an issue acknowledged is still open: its row is the same)
            assert after != before, change.__name__  # the change shows (and is not a kept row's)
        before = after


def test_an_order_due_today_shows_overdue_in_its_kept_row_the_next_day(app, world, client, auth, monkeypatch):
    with app.test_request_context():  # today in the viewer's zone (the default one), not UTC's
        today = services.today()
        order = db.session.scalar(select(Order).where(Order.reference == "SEC-WRLD01"))
        order.due_date = today
        db.session.commit()
    auth.login("producer")
    assert "Overdue" not in client.get("/orders").get_data(as_text=True)
    tomorrow = today + timedelta(days=1)
    monkeypatch.setattr(services, "today", lambda now=None: tomorrow)
    assert "Overdue" in client.get("/orders").get_data(as_text=True)


def test_the_same_row_is_never_shown_in_another_role_or_language(app, world):
    """A coordinator's row names both organizations, a producer's only the customer: kept rows
    are per role (per language: the first test)."""
    clients = _signed_in(app, ("producer", "coordinator"))
    rows = {name: c.get("/orders").get_data(as_text=True).split('class="plain order-list"')[1]
            for name, c in clients.items()}
    assert "Takeo Rice Coop → Bangkok Buyer" in rows["coordinator"]
    assert "Bangkok Buyer" in rows["producer"] and "Takeo Rice Coop" not in rows["producer"]
