"""The orders and issues lists and the order page are served again from the page cache, and
never show stale data or someone else's."""
import gzip
import os
import re
import time
from datetime import timedelta
from itertools import pairwise

import brotli
import pytest
from sqlalchemy import delete, event, func, select, update

from secgo import pagecache
from secgo.extensions import db
from secgo.models import Organization, StatusUpdate, User
from tests.test_orders import count_queries, make_order, post_update

pytestmark = pytest.mark.parametrize(
    "app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}], indirect=True)


def _orders(client) -> str:
    response = client.get("/orders")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_orders_list_seen_again_is_not_rendered_again(app, world, client, auth):
    make_order(app, world, product="Keo Romeat mango")
    auth.login("producer")
    rendered = count_queries(app, client, "/orders")
    first = _orders(client)
    again = count_queries(app, client, "/orders")
    assert "Keo Romeat mango" in first
    assert again < rendered, (again, rendered)
    assert again <= 3  # the session's user and the data version (and BEGIN on SQLite)
    assert _orders(client) == first


def test_a_new_order_and_an_update_show_at_once(app, world, client, auth):
    ref = make_order(app, world, product="Silk scarf")
    auth.login("producer")
    assert "Silk scarf" in _orders(client)
    make_order(app, world, product="Rattan basket")  # by the service, as another session would
    assert "Rattan basket" in _orders(client)
    assert post_update(client, ref, "dispatched", "Truck left").status_code == 303
    assert "Dispatched" in _orders(client)


def test_the_customers_confirmation_changes_the_producers_list(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, "ready", "Packed")
    auth.logout()
    auth.login("customer")
    waiting = _orders(client)
    with app.app_context():
        update_id = db.session.scalar(select(StatusUpdate.id).where(StatusUpdate.status == "ready"))
    assert client.post(f"/orders/{ref}/updates/{update_id}/confirm", data={}).status_code == 303
    assert _orders(client) != waiting  # the "awaiting your confirmation" mark is gone


def test_a_renamed_customer_shows_in_every_producers_list(app, world, client, auth):
    make_order(app, world)
    auth.login("producer")
    assert "Bangkok Buyer" in _orders(client)
    with app.app_context():
        db.session.get(Organization, world.orgs["buyer"]).name = "Bangkok Fresh Market"
        db.session.commit()
    assert "Bangkok Fresh Market" in _orders(client)


def test_another_user_never_gets_my_cached_list(app, world, client, auth):
    make_order(app, world, product="Organic jasmine rice")
    make_order(app, world, product="Ikat silk", producer="weaver")
    auth.login("producer")
    mine = _orders(client)
    auth.logout()
    auth.login("other_producer")
    theirs = _orders(client)
    assert "Organic jasmine rice" in mine and "Ikat silk" not in mine
    assert "Ikat silk" in theirs and "Organic jasmine rice" not in theirs


def test_a_language_change_shows_the_list_in_the_new_language(app, world, client, auth):
    make_order(app, world)
    auth.login("producer")
    assert '<html lang="en"' in _orders(client)
    with app.app_context():
        from secgo.models import User

        db.session.get(User, world.users["producer"]).locale = "th"
        db.session.commit()
    assert '<html lang="th"' in _orders(client)


def test_the_cache_can_be_turned_off(app, world, client, auth):
    make_order(app, world)
    auth.login("producer")
    _orders(client)
    hit = count_queries(app, client, "/orders")
    app.config["PAGE_CACHE"] = False
    assert count_queries(app, client, "/orders") == count_queries(app, client, "/orders") > hit


def test_a_deactivated_account_is_not_shown_its_kept_list(app, world, client, auth):
    from secgo.models import User

    make_order(app, world)
    auth.login("producer")
    _orders(client)
    _orders(client)
    with app.app_context():
        db.session.get(User, world.users["producer"]).active = False
        db.session.commit()
    response = client.get("/orders")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_change_elsewhere_ends_this_session_even_for_a_kept_list(app, world, client, auth):
    from secgo.models import User

    make_order(app, world)
    auth.login("producer")
    _orders(client)
    with app.app_context():
        from secgo.auth import services

        services.change_password(db.session.get(User, world.users["producer"]), "another long password")
        db.session.commit()
    assert client.get("/orders").status_code == 302


def test_a_browser_revalidating_the_list_gets_304_without_the_page(app, world, client, auth):
    make_order(app, world)
    auth.login("producer")
    first = client.get("/orders", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    again = client.get("/orders", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    make_order(app, world, product="Rattan basket")
    changed = client.get("/orders", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_forged_session_cookie_is_never_answered_from_the_cache(app, world, client, auth):
    make_order(app, world)
    auth.login("producer")
    _orders(client)
    cookie = client.get_cookie("secgo_session")
    client.set_cookie("secgo_session", cookie.value[:-3] + "AAA")
    client.delete_cookie("remember_token")
    assert client.get("/orders").status_code == 302


def test_a_new_display_name_or_role_shows_at_once(app, world, client, auth):
    from secgo.models import User

    make_order(app, world)
    auth.login("producer")
    _orders(client)
    with app.app_context():
        db.session.get(User, world.users["producer"]).display_name = "Sokha Chan"
        db.session.commit()
    assert "Sokha Chan" in _orders(client)


# --- who sees what comes from authz; a change re-renders only the pages that show it --------

EVERYONE = ("producer", "customer", "coordinator", "admin",
            "other_producer", "other_customer", "other_coordinator")
# The world's order SEC-WRLD01 is farm -> buyer, in the rice cluster: these see it ...
SEES_WORLD_ORDER = {"producer", "customer", "coordinator", "admin"}
# ... and these work for organizations that have nothing to do with it.
UNRELATED = set(EVERYONE) - SEES_WORLD_ORDER


class Clock:
    """The page cache's clock, moved by the test."""

    perf_counter = staticmethod(time.perf_counter)

    def __init__(self):
        self.now = time.time()

    def time(self):
        return self.now


@pytest.fixture
def one_minute(monkeypatch):
    """The page cache's clock stands still (a kept page older than a minute is made again)."""
    clock = Clock()
    monkeypatch.setattr(pagecache, "time", clock)
    return clock


def _signed_in(app, names) -> dict:
    """A client per person, signed in, with their orders and issues lists kept."""
    from tests.conftest import Auth

    clients = {}
    for name in names:
        clients[name] = app.test_client()
        Auth(clients[name]).login(name)
        _orders(clients[name])
        _orders(clients[name])
        clients[name].get("/issues")
    return clients


def _rendered(app, client, path="/orders") -> bool:
    """Whether the page reached Flask (a miss) rather than being answered from the cache."""
    front, reached = app.wsgi_app, []
    inner = front.next

    def counting(environ, start_response):
        reached.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    front.next = counting
    try:
        assert client.get(path).status_code == 200
    finally:
        front.next = inner
    return bool(reached)


def _rerendered(app, clients, path="/orders") -> set:
    return {name for name, client in clients.items() if _rendered(app, client, path)}


def _in_request(app, change):
    from secgo.models import Order, User

    with app.test_request_context():
        def person(name):
            return db.session.scalar(select(User).where(User.username == name))

        order = db.session.scalar(select(Order).where(Order.reference == "SEC-WRLD01"))
        change(person, order)
        db.session.commit()


def _new_order(person, order):
    from secgo.orders import services

    services.create_order(person("producer"), {
        "customer_org_id": order.customer_org_id, "product": "Rattan basket", "quantity": "5",
        "unit": "pcs", "origin": "Takeo", "destination": "Bangkok"})


def _status_update(person, order):
    from secgo.orders import services

    services.post_update(person("producer"), order, {"status": "dispatched", "note": "Truck left"})


def _confirmation(person, order):
    from secgo.models import StatusUpdate
    from secgo.orders import services

    update = db.session.scalar(select(StatusUpdate).where(StatusUpdate.order_id == order.id,
                                                          StatusUpdate.confirmed_at.is_(None)))
    services.confirm_update(person("customer"), update, {"comment": "Seen"})


def _delivery(person, order):
    from secgo.orders import services

    services.confirm_delivery(person("customer"), order,
                              {"received_quantity": "90", "condition": "short"})


def _issue(person, order):
    from secgo.issues import services

    services.raise_issue(order, person("customer"), category="delay", severity="low",
                         title="Late truck")


def _the_issue(order):
    from secgo.models import Issue

    return db.session.scalar(select(Issue).where(Issue.order_id == order.id))


def _comment(person, order):
    from secgo.issues import services

    services.add_comment(_the_issue(order), person("producer"), "Checking the bags")


def _transition(person, order):
    from secgo.issues import services

    services.transition(_the_issue(order), person("producer"), "acknowledge")


def _tracking_link(person, order):
    from secgo.orders import services

    services.create_tracking_link(person("producer"), order, {"contact_name": "Warehouse clerk"})


def _producer_renamed(person, order):
    db.session.get(Organization, order.producer_org_id).name = "Takeo Organic Rice Coop"


def _customer_renamed(person, order):
    db.session.get(Organization, order.customer_org_id).name = "Bangkok Fresh Market"


def _crossing_changed(person, order):
    order.border_crossing = "bavet_moc_bai"  # shown on the issues list under each issue


def _cluster_renamed(person, order):
    from secgo.models import Cluster

    producer = db.session.get(Organization, order.producer_org_id)
    db.session.get(Cluster, producer.cluster_id).name = "Takeo rice farmers"


NOT_ON_ISSUES_LISTS = {_new_order, _status_update, _confirmation, _tracking_link}


@pytest.mark.parametrize("path", ["/orders", "/issues"])
@pytest.mark.parametrize("change", [
    _new_order, _status_update, _confirmation, _delivery, _issue, _comment, _transition,
    _tracking_link, _producer_renamed, _customer_renamed, _cluster_renamed, _crossing_changed])
def test_a_change_rerenders_the_pages_of_everyone_who_sees_it_and_no_one_else(
        app, world, one_minute, change, path):
    from tests.factories import matrix_update

    with app.app_context():
        matrix_update(world)  # one update waiting for the customer's confirmation
    clients = _signed_in(app, EVERYONE)
    for client in clients.values():
        client.get(path)
    assert _rerendered(app, clients, path) == set()  # all kept
    _in_request(app, change)
    if path == "/issues" and change in NOT_ON_ISSUES_LISTS:  # (their tab numbers move, as served)
        assert _rerendered(app, clients, path) == set()
        return
    assert _rerendered(app, clients, path) == SEES_WORLD_ORDER
    assert _rerendered(app, clients, path) == set()  # and kept again


def test_the_issues_list_shows_a_new_issue_comment_and_state_at_once_and_only_to_who_may_see_it(
        app, world, one_minute):
    clients = _signed_in(app, EVERYONE)
    pages = {name: client.get("/issues?tab=all").get_data(as_text=True) for name, client in clients.items()}
    assert not any("Late truck" in page for page in pages.values())
    _in_request(app, _issue)
    for name, client in clients.items():
        shown = "Late truck" in client.get("/issues?tab=all").get_data(as_text=True)
        assert shown == (name in SEES_WORLD_ORDER), name
    _in_request(app, _transition)
    page = clients["customer"].get("/issues?tab=all").get_data(as_text=True)
    assert "Acknowledged" in page


def test_an_order_in_another_cluster_leaves_this_clusters_pages_kept(app, world, one_minute):
    clients = _signed_in(app, EVERYONE)
    assert _rerendered(app, clients) == set()
    make_order(app, world, product="Ikat silk", producer="weaver", customer="other_buyer")
    assert _rerendered(app, clients) == {"other_producer", "other_customer",
                                         "other_coordinator", "admin"}


def test_renaming_an_organization_touches_only_it_and_those_it_trades_with(app, world):
    with app.app_context():
        before = dict(db.session.execute(select(Organization.id, Organization.data_version)).all())
        db.session.get(Organization, world.orgs["buyer"]).name = "Bangkok Fresh Market"
        db.session.commit()
        after = dict(db.session.execute(select(Organization.id, Organization.data_version)).all())
    bumped = {org for org in after if after[org] != before[org]}
    assert bumped == {world.orgs["buyer"], world.orgs["farm"]}  # farm sells to buyer


def test_a_person_moved_to_another_organization_or_role_sees_its_orders_at_once(app, world):
    from secgo.models import Cluster, User

    make_order(app, world, product="Ikat silk", producer="weaver", customer="other_buyer")
    clients = _signed_in(app, ["producer", "coordinator"])
    assert "Ikat silk" not in _orders(clients["producer"])
    with app.app_context():
        db.session.get(User, world.users["producer"]).organization_id = world.orgs["weaver"]
        db.session.commit()
    assert "Ikat silk" in _orders(clients["producer"])
    with app.app_context():
        db.session.get(User, world.users["producer"]).role = "customer"
        db.session.commit()
    assert "Ikat silk" not in _orders(clients["producer"])  # a customer sees what it buys
    assert "Ikat silk" not in _orders(clients["coordinator"])
    with app.app_context():
        coordinator = db.session.get(User, world.users["coordinator"])
        coordinator.clusters = [db.session.get(Cluster, world.clusters["silk"])]
        db.session.commit()
    page = _orders(clients["coordinator"])
    assert "Ikat silk" in page and "Organic jasmine rice" not in page


def test_the_organizations_a_page_depends_on_are_authzs(app, world):
    """Every order a person may see has one of its organizations among those the page cache
    sums up for them, and the cache's figures are those of authz.visible_orgs_clause."""
    from secgo.authz import visible_orders_clause, visible_orgs_clause
    from secgo.models import Order, User, UserSession, hash_token
    from secgo.pagecache import user_and_version

    make_order(app, world, product="Ikat silk", producer="weaver", customer="other_buyer")
    make_order(app, world, product="Silk for Bangkok", producer="weaver", customer="buyer")
    with app.app_context():
        for name in EVERYONE:
            user = db.session.get(User, world.users[name])
            user.login_id = f"{name}-sign-in"  # authenticated for authz
            seen = set(db.session.scalars(select(Organization.id).where(visible_orgs_clause(user))))
            for order in db.session.scalars(select(Order).where(visible_orders_clause(user))):
                assert {order.producer_org_id, order.customer_org_id} & seen, (name, order.reference)
            sign_in = UserSession(user_id=user.id, secret_hash=hash_token("s" * 32))
            db.session.add(sign_in)
            db.session.commit()
            versions = db.session.scalars(select(Organization.data_version)
                                          .where(Organization.id.in_(seen)))
            conn = db.session.connection()
            row = user_and_version(conn.engine, conn.connection.driver_connection,
                                   f"{sign_in.id}.{'s' * 32}", app.config["REMEMBER_COOKIE_DURATION"])
            assert (row[0], row[4], row[7], row[8], row[9]) == (
                user.id, user.role, len(seen), sum(seen), sum(versions)), name


def test_the_version_hook_is_on_the_apps_session_only_and_only_once(app, world, tmp_path):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from secgo import pagecache
    from secgo.models import Order
    from tests.conftest import make_app

    make_app(tmp_path / "second", app.config["SQLALCHEMY_DATABASE_URI"])  # another app, same db
    assert not event.contains(Session, "after_flush", pagecache._bump_versions)

    def version():
        return db.session.get(Organization, world.orgs["farm"]).data_version

    with app.app_context():
        before = version()
        db.session.commit()  # (SQLite: no read transaction left open across the other's write)
        with Session(db.engine) as other:  # a session that is not the app's: no hook
            other.scalar(select(Order).where(Order.reference == "SEC-WRLD01")).product = "Rice"
            other.commit()
        assert version() == before
        db.session.commit()
        db.session.scalar(select(Order).where(Order.reference == "SEC-WRLD01")).product = "Jasmine"
        db.session.commit()
        assert version() == before + 1  # one hook, however many apps were made


# --- the order page: kept too, with one-time client ids in every answer ---------------------

WORLD_ORDER = "/orders/SEC-WRLD01"
CLIENT_ID = re.compile(r'name="client_id" value="([^"]+)"')


def _page(client, path=WORLD_ORDER, **headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.status_code
    assert "ETag" not in response.headers  # never revalidated: an old copy carries used ids
    data = response.data
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        data = brotli.decompress(data)
    elif encoding == "gzip":
        data = gzip.decompress(data)
    return data.decode()


def _kept_order_page(app, client, path=WORLD_ORDER) -> str:
    """Open the order page until it is answered from the cache; that answer."""
    for _ in range(3):
        if not _rendered(app, client, path):
            return _page(client, path)
    raise AssertionError(f"{path} is never answered from the cache")


@pytest.fixture
def producer(app, world, one_minute):
    """The producer signed in on its own client; the world's order has an update to confirm."""
    from tests.conftest import Auth
    from tests.factories import matrix_update

    with app.app_context():
        matrix_update(world)
    client = app.test_client()
    Auth(client).login("producer")
    return client


def test_the_order_page_seen_again_is_answered_from_the_cache_with_new_client_ids_each_time(
        app, world, producer):
    page = _kept_order_page(app, producer)
    ids = [CLIENT_ID.findall(_page(producer, **{"Accept-Encoding": encoding}))
           for encoding in ("br", "gzip", "", "br")]
    ids.append(CLIENT_ID.findall(page))
    assert len(ids[0]) >= 2  # the update form and the documents form, each its own id
    every = [one for answer in ids for one in answer]
    assert len(set(every)) == len(every)  # never two alike, in one answer or two
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", one)
               for one in every)
    assert pagecache.PLACEHOLDER not in page
    assert count_queries(app, producer, WORLD_ORDER) <= 3  # the sign-in and data version only


def test_an_order_page_made_anew_asks_for_the_sign_in_and_read_mark_only_with_its_key(
        app, world, producer):
    """The page cache read both moments before, for the page's key: the view uses them."""
    from sqlalchemy import event

    _kept_order_page(app, producer)
    assert post_update(producer, "SEC-WRLD01", "note", "Bags counted").status_code == 303
    with app.app_context():
        engine = db.engine
        me = db.session.scalar(select(User.id).where(User.username == "producer"))
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = _page(producer)  # made anew: the order changed
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert "Bags counted" in page and f'<body data-user="{me}"' in page
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert any("FROM status_updates" in s for s in reads)  # (the page was made)
    assert not any("user_sessions" in s or "SELECT read_marks.seen_at" in s for s in reads)


def test_a_form_posted_without_javascript_from_the_kept_page_is_stored_once(app, world, producer):
    def notes():
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(StatusUpdate)
                                     .where(StatusUpdate.note == "Bags counted"))

    first, second = (CLIENT_ID.findall(_kept_order_page(app, producer))[0],
                     CLIENT_ID.findall(_page(producer))[0])
    for client_id in (first, first, second):  # a double tap on one answer, then another answer
        response = post_update(producer, "SEC-WRLD01", "note", "Bags counted", client_id=client_id)
        assert response.status_code == 303
    assert notes() == 2


def test_a_change_to_the_order_shows_at_once_by_another_user_or_another_instance(
        app, world, producer, tmp_path):
    from tests.conftest import Auth, make_app

    _kept_order_page(app, producer)
    _in_request(app, _confirmation)  # the customer, as another session would
    page = _page(producer)
    assert "confirmed by" in page
    other = make_app(tmp_path / "second", app.config["SQLALCHEMY_DATABASE_URI"],
                     WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)  # another instance, same db
    customer = other.test_client()
    Auth(customer).login("customer")
    _page(customer)
    assert post_update(customer, "SEC-WRLD01", "note", "Seen at the gate").status_code == 303
    assert _rendered(app, producer, WORLD_ORDER)
    assert "Seen at the gate" in _page(producer)
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _producer_person_renamed(person, order):
    person("producer").display_name = "Sokha Chan"  # the author of the order's updates


@pytest.mark.parametrize("change", [
    _status_update, _confirmation, _delivery, _issue, _comment, _transition, _tracking_link,
    _producer_renamed, _customer_renamed, _cluster_renamed, _producer_person_renamed])
def test_a_change_rerenders_the_order_page_of_everyone_who_sees_it(app, world, producer, change):
    clients = _signed_in(app, SEES_WORLD_ORDER)
    if change in (_comment, _transition):
        _in_request(app, _issue)
    for client in clients.values():
        _kept_order_page(app, client)
    assert _rerendered(app, clients, WORLD_ORDER) == set()
    _in_request(app, change)
    assert _rerendered(app, clients, WORLD_ORDER) == SEES_WORLD_ORDER
    # With news, that visit moved each one's read mark; its answer was kept all the same.
    assert _rerendered(app, clients, WORLD_ORDER) == set()


def test_someone_elses_order_is_never_answered_from_the_cache(app, world, one_minute):
    from secgo.auth import services
    from secgo.models import User

    clients = _signed_in(app, ["producer", "coordinator", "customer"])
    for client in clients.values():
        _kept_order_page(app, client)
    with app.app_context():  # the producer moves to another organization
        db.session.get(User, world.users["producer"]).organization_id = world.orgs["weaver"]
        db.session.commit()
    assert clients["producer"].get(WORLD_ORDER).status_code == 404
    with app.app_context():  # the coordinator now coordinates another cluster
        from secgo.models import Cluster

        db.session.get(User, world.users["coordinator"]).clusters = [
            db.session.get(Cluster, world.clusters["silk"])]
        db.session.commit()
    assert clients["coordinator"].get(WORLD_ORDER).status_code == 404
    with app.app_context():
        db.session.get(User, world.users["customer"]).active = False
        db.session.commit()
    assert clients["customer"].get(WORLD_ORDER).status_code == 302
    clients = _signed_in(app, ["other_customer"])
    assert clients["other_customer"].get(WORLD_ORDER).status_code == 404
    with app.app_context():
        db.session.get(User, world.users["customer"]).active = True
        db.session.commit()
    clients = _signed_in(app, ["customer"])
    _kept_order_page(app, clients["customer"])
    with app.app_context():
        services.change_password(db.session.get(User, world.users["customer"]), "another long password")
        db.session.commit()
    assert clients["customer"].get(WORLD_ORDER).status_code == 302


def test_the_read_mark_still_moves_and_the_divider_shows_what_is_new(app, world, producer):
    from secgo.models import ReadMark

    def mark():
        with app.app_context():
            return db.session.scalar(select(ReadMark.seen_at).where(
                ReadMark.user_id == world.users["producer"], ReadMark.kind == "order"))

    _kept_order_page(app, producer)
    _in_request(app, _status_update)  # news on the order
    assert "Truck left" in _page(producer)
    seen = mark()
    assert seen is not None
    assert "New since your last visit" not in _page(producer)
    assert not _rendered(app, producer, WORLD_ORDER)
    _in_request(app, _confirmation)  # news again
    page = _page(producer)
    assert "New since your last visit" in page and "confirmed by" in page
    assert mark() > seen  # the mark moved, outside the page's read transaction
    # That answer was kept: the next visit is answered from memory, its divider placed by the
    # mark as it is now (nothing is new).
    assert not _rendered(app, producer, WORLD_ORDER)
    assert "New since your last visit" not in _page(producer)
    with app.app_context():
        unread = db.session.scalar(select(func.count()).select_from(ReadMark)
                                   .where(ReadMark.user_id == world.users["producer"]))
    assert unread == 1


def _customer_comment(person, order):
    from secgo.issues import services

    services.add_comment(_the_issue(order), person("customer"), "Still waiting")


def _timeline_of(page: str) -> str:
    """The page's timeline, with what differs between two answers of the same page left out
    (one-time ids, CSRF tokens, relative times)."""
    timeline = page[page.index('<ol class="timeline"'):page.index("</ol>", page.index('<ol class="timeline"'))]
    timeline = re.sub(r'name="(client_id|csrf_token)" value="[^"]+"', "", timeline)
    return re.sub(r"<time [^>]*>.*?</time>", "<time>", timeline)


def test_a_kept_order_page_shows_what_is_new_as_a_fresh_one_would_whatever_the_read_mark(
        app, world, producer):
    """The order page is kept whatever the person's read mark of the order (the answer of a
    visit that moves it too); its "new since your last visit" divider and "new activity" marks
    are placed as it is served, by the mark then: the same timeline as the page made anew."""
    from secgo.documents import services as documents
    from secgo.models import Order, ReadMark
    from secgo.orders import services

    for change in (_confirmation, _issue, _customer_comment):  # news, each a moment apart
        _in_request(app, change)
    with app.test_request_context():
        order = db.session.scalar(select(Order).where(Order.reference == "SEC-WRLD01"))
        updates, delivery, issues = services.load_history(order)
        entries = services.timeline(updates, delivery, issues, documents.order_documents(order, removed=True))
        times = sorted({e.at for e in entries} | {i.updated_at for i in issues})
        order_id = order.id
    assert len(entries) >= 3 and max(i.updated_at for i in issues) > max(e.at for e in entries)
    marks = [None, times[0] - timedelta(seconds=1), *(a + (b - a) / 2 for a, b in pairwise(times)),
             times[-1] + timedelta(seconds=1)]

    def set_mark(at):
        with app.app_context():
            db.session.execute(delete(ReadMark).where(ReadMark.user_id == world.users["producer"],
                                                      ReadMark.kind == "order"))
            if at is not None:
                db.session.add(ReadMark(user_id=world.users["producer"], kind="order",
                                        target_id=order_id, seen_at=at))
            db.session.commit()

    _kept_order_page(app, producer)
    shown = []
    for at in marks:
        set_mark(at)
        assert not _rendered(app, producer, WORLD_ORDER)  # a mark alone leaves the page kept
        kept = _timeline_of(_page(producer))
        set_mark(at)
        app.config["PAGE_CACHE"] = False
        try:
            fresh = _timeline_of(_page(producer))
        finally:
            app.config["PAGE_CACHE"] = True
        assert kept == fresh, at
        shown.append((kept.count("New since your last visit"), kept.count("New activity")))
    # No mark and one after everything show nothing; marks before the latest entry show the
    # divider and the issue's "new activity"; one between the issue's last entry and its
    # latest comment, the mark alone.
    assert shown[0] == shown[-1] == (0, 0)
    assert all(divider == 1 and new >= 1 for divider, new in shown[1:-2])
    assert shown[-2] == (0, 1)


def test_an_order_page_kept_by_another_process_is_served_with_its_divider_placed(
        app, world, producer, monkeypatch):
    """A kept page carries the places of its divider in the keeping process's secret: any
    other process (another worker, another instance, through Redis) fills them."""
    _in_request(app, _status_update)  # the producer's own: the order is marked seen
    _kept_order_page(app, producer)
    _in_request(app, _confirmation)  # news on the order
    assert "New since your last visit" in _page(producer)  # the visit moved the mark; kept
    kept_with = pagecache.SEEN_TOKEN
    other = "one-time-id-" + "0f" * 12  # this process now serves as another would
    monkeypatch.setattr(pagecache, "PLACEHOLDER", other)
    monkeypatch.setattr(pagecache, "_PLACEHOLDER", other.encode())
    monkeypatch.setattr(pagecache, "SEEN_TOKEN", pagecache._seen_token(other.encode()).decode())
    assert not _rendered(app, producer, WORLD_ORDER)
    page = _page(producer)
    assert kept_with not in page and "one-time-id-" not in page
    assert "New since your last visit" not in page and "Confirm" in page


def test_a_flash_message_is_shown_once_and_never_kept(app, world, producer):
    _kept_order_page(app, producer)
    with producer.session_transaction() as session:
        session["_flashes"] = [("success", "Saved for you")]
    assert "Saved for you" in _page(producer)
    assert "Saved for you" not in _page(producer)
    assert not _rendered(app, producer, WORLD_ORDER)
    assert "Saved for you" not in _page(producer)


def test_a_head_request_never_keeps_an_empty_page(app, world, producer):
    _kept_order_page(app, producer)
    for path in ("/orders", WORLD_ORDER):
        app.extensions[pagecache.STORE_EXTENSION].clear()
        assert producer.head(path).status_code == 200
        assert "<html" in _page(producer, path)


# --- pages are shared by every worker and instance through Redis ---------------------------

SHARED = f"secgo-test-shared-pages-{os.getpid()}"  # each test process its own: they run side by side


def _second_instance(app, tmp_path, **config):
    """Another app on the same database, as another worker or server would be."""
    from tests.conftest import make_app

    return make_app(tmp_path / "second", app.config["SQLALCHEMY_DATABASE_URI"],
                    WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False, **config)


def _same_browser(client, other_app):
    """A client of the other instance carrying this client's cookies (the same phone)."""
    other = other_app.test_client()
    for name in (other_app.config["SESSION_COOKIE_NAME"], other_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")):
        cookie = client.get_cookie(name)
        if cookie is not None:
            other.set_cookie(name, cookie.value)
    return other


@pytest.fixture
def two_instances(app, tmp_path):
    from tests.conftest import make_app

    first = make_app(tmp_path / "first", app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=False,
                     RATELIMIT_ENABLED=False, PAGE_CACHE_KEY_PREFIX=SHARED)
    second = _second_instance(app, tmp_path, PAGE_CACHE_KEY_PREFIX=SHARED)
    yield first, second
    for one in (first, second):
        one.extensions[pagecache.STORE_EXTENSION].clear()
        with one.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_page_kept_by_one_instance_is_answered_by_another_and_a_change_there_shows_at_once(
        world, two_instances, one_minute):
    from tests.conftest import Auth

    first, second = two_instances
    make_order(first, world, product="Keo Romeat mango")
    here = first.test_client()
    Auth(here).login("producer")
    assert _rendered(first, here, "/orders")
    there = _same_browser(here, second)
    assert not _rendered(second, there, "/orders")  # kept by the first, found by the second
    assert _orders(there) == _orders(here)
    assert post_update(there, "SEC-WRLD01", "note", "Counted at the gate").status_code == 303
    assert _rendered(first, here, "/orders")  # the change made on the second
    assert not _rendered(second, there, "/orders")
    assert _kept_order_page(first, here)
    ids = [CLIENT_ID.findall(_page(client)) for client in (here, there, there)]
    every = [one for answer in ids for one in answer]
    assert len(every) >= 6 and len(set(every)) == len(every)  # one-time ids, whoever answers


def test_another_version_of_the_app_never_serves_a_kept_page(app):
    from secgo.pagestore import PageStore

    old = PageStore("redis://127.0.0.1:6379/0", SHARED, b"secret", build="old")
    new = PageStore("redis://127.0.0.1:6379/0", SHARED, b"secret", build="new")
    entry = ("200 OK", [("Content-Type", "text/html")], b"<p>old</p>", None, b"", time.time() + 60, "")
    old.put(("key",), entry)
    try:
        assert new.get(("key",)) is None
        assert PageStore("redis://127.0.0.1:6379/0", SHARED, b"secret", build="old").get(("key",)) == entry
    finally:
        old.clear()


def test_a_page_written_into_redis_by_someone_else_is_never_served(world, two_instances, one_minute):
    import redis

    from tests.conftest import Auth

    first, second = two_instances
    here = first.test_client()
    Auth(here).login("producer")
    genuine = _orders(here)
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    names = list(client.scan_iter(match=f"{SHARED}:page:*"))
    assert names and all(re.fullmatch(rf"{SHARED}:page:[0-9a-f]{{16}}:[0-9a-f]{{64}}", n.decode()) for n in names)
    for name in names:  # the page's own signature, over a body of the attacker's
        value = client.get(name)
        forged = value.replace(b"Orders", b"<script>alert(1)</script>")
        assert forged != value
        client.set(name, forged, ex=60)
    there = _same_browser(here, second)
    assert _rendered(second, there, "/orders")  # not served: rendered again
    page = _orders(there)
    assert "alert(1)" not in page and page.count("Orders") == genuine.count("Orders")


def test_pages_are_served_while_the_shared_store_is_unreachable(app, world, tmp_path, one_minute):
    from tests.conftest import Auth

    down = _second_instance(app, tmp_path, PAGE_CACHE_STORE_URI="redis://127.0.0.1:9/0")
    client = down.test_client()
    Auth(client).login("producer")
    try:
        assert _rendered(down, client, "/orders")
        assert not _rendered(down, client, "/orders")  # kept in the process meanwhile
        assert _rendered(down, client, "/issues")
    finally:
        with down.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_kept_page_is_served_for_at_most_five_minutes_from_its_making_and_then_made_again(
        app, world, client, auth, one_minute):
    make_order(app, world, product="Keo Romeat mango")
    auth.login("producer")
    assert _rendered(app, client, "/orders")
    one_minute.now += pagecache.MAX_AGE_SECONDS - 1
    assert not _rendered(app, client, "/orders")
    one_minute.now += 1
    assert _rendered(app, client, "/orders")  # nothing on it changed, but no page lives longer
    assert not _rendered(app, client, "/orders")


# --- what the clock alone changes: relative times, the viewer's day, the route's estimate ----

@pytest.fixture
def stopped_clock(monkeypatch, one_minute):
    """One clock, moved by the test, for the page cache, the relative times it shows and the
    viewer's day."""
    from datetime import UTC, datetime

    from secgo import clock
    from secgo.i18n import formatting

    monkeypatch.setattr(clock, "time", one_minute)
    now = lambda: datetime.fromtimestamp(one_minute.now, UTC)  # noqa: E731
    monkeypatch.setattr(formatting, "utcnow", now)
    monkeypatch.setattr(pagecache, "utcnow", now)
    one_minute.at = now
    return one_minute


def _set_times(app, sql, **moments):
    from sqlalchemy import text

    with app.app_context():
        db.session.execute(text(sql), moments)
        db.session.commit()


def test_an_issues_age_on_a_kept_list_reads_as_of_the_moment_it_is_served(
        app, world, client, auth, stopped_clock):
    _in_request(app, _issue)
    _set_times(app, "UPDATE issues SET created_at = :t", t=stopped_clock.at() - timedelta(minutes=10))
    auth.login("producer")
    assert _rendered(app, client, "/issues")
    assert "Age: 10 minutes" in client.get("/issues").get_data(as_text=True)
    stopped_clock.now += 29  # 10 min 29 s: still "10 minutes"
    assert not _rendered(app, client, "/issues")
    assert "Age: 10 minutes" in client.get("/issues").get_data(as_text=True)
    stopped_clock.now += 2  # 10 min 31 s: "11 minutes", from the same kept page
    assert not _rendered(app, client, "/issues")
    page = client.get("/issues").get_data(as_text=True)
    assert "Age: 11 minutes" in page and "when-" not in page
    stopped_clock.now += pagecache.MAX_AGE_SECONDS - 32  # kept as long as any page is
    assert not _rendered(app, client, "/issues")
    assert "Age: 15 minutes" in client.get("/issues").get_data(as_text=True)
    stopped_clock.now += 1
    assert _rendered(app, client, "/issues")


def test_an_issues_list_made_again_writes_only_the_changed_rows_and_reads_as_one_made_anew(
        app, world, client, auth, stopped_clock):
    """A list made again after one change takes the other rows as this process wrote them
    (issues.routes.issue_rows), with their ages as of the answer, word for word the page made
    with no kept rows and no page cache."""
    _in_request(app, _issue)
    _set_times(app, "UPDATE issues SET created_at = :t", t=stopped_clock.at() - timedelta(minutes=10))
    auth.login("producer")
    assert _rendered(app, client, "/issues?tab=all")
    rows = app.extensions["secgo.issue_rows"]
    written = len(rows.items)
    assert written == 2  # the world's issue and the late truck
    stopped_clock.now += 5 * 60
    _in_request(app, _transition)  # the late truck acknowledged: its row changes, the other not
    assert _rendered(app, client, "/issues?tab=all")
    assert len(rows.items) == written + 1
    page = client.get("/issues?tab=all").get_data(as_text=True)
    assert "Acknowledged" in page and page.count("Age: 15 minutes") == 2 and "when-" not in page
    app.config["PAGE_CACHE"] = False  # made anew, every row written now, nothing kept
    rows.items.clear()
    made_anew = client.get("/issues?tab=all").get_data(as_text=True)
    signed = re.compile(r'name="csrf_token" value="[^"]+"')  # signed with the second it was made
    assert signed.sub("", page) == signed.sub("", made_anew)
    assert len(rows.items) == 0  # (ages written in words now are never kept)


def test_a_kept_issues_list_sent_again_word_for_word_is_compressed_once(
        app, world, client, auth, stopped_clock, monkeypatch):
    from secgo import assets

    _in_request(app, _issue)
    _set_times(app, "UPDATE issues SET created_at = :t", t=stopped_clock.at() - timedelta(minutes=10))
    auth.login("producer")
    assert _rendered(app, client, "/issues")
    compressed = []
    real = assets._encode
    monkeypatch.setattr(assets, "_encode", lambda data, encoding: compressed.append(data) or real(data, encoding))
    answers = [client.get("/issues", headers={"Accept-Encoding": "br"}) for _ in range(3)]
    assert len(compressed) == 1  # three answers, the same bytes: one compression
    pages = {brotli.decompress(answer.data) for answer in answers}
    assert len(pages) == 1 and "Age: 10 minutes" in pages.pop().decode()
    stopped_clock.now += 31  # "11 minutes": other words, compressed anew, from the same kept page
    assert not _rendered(app, client, "/issues")
    page = brotli.decompress(client.get("/issues", headers={"Accept-Encoding": "br"}).data).decode()
    assert "Age: 11 minutes" in page and len(compressed) == 2


def test_a_kept_order_pages_relative_times_read_as_of_the_moment_it_is_served(
        app, world, producer, stopped_clock):
    from secgo.models import Order

    with app.app_context():
        db.session.execute(update(Order).values(status="in_production"))
        db.session.commit()
    ago = stopped_clock.at() - timedelta(minutes=10)
    _set_times(app, "UPDATE status_updates SET recorded_at = :t, occurred_at = :t", t=ago)
    _set_times(app, "UPDATE orders SET created_at = :t", t=ago)
    page = _kept_order_page(app, producer)
    assert "10 minutes ago" in page
    stopped_clock.now += 31  # 10 min 31 s: the same kept page says "11 minutes ago"
    assert not _rendered(app, producer, WORLD_ORDER)
    page = _page(producer)
    assert "11 minutes ago" in page and "10 minutes ago" not in page and "when-" not in page
    # Kept as long as any page is, whatever its times say meanwhile.
    stopped_clock.now += pagecache.MAX_AGE_SECONDS - 32
    assert not _rendered(app, producer, WORLD_ORDER)
    assert "15 minutes ago" in _page(producer)
    stopped_clock.now += 1
    assert _rendered(app, producer, WORLD_ORDER)


@pytest.mark.parametrize("language", ["th", "my", "en"])
def test_a_kept_order_page_served_later_reads_as_a_page_made_then_would(
        app, world, producer, stopped_clock, language):
    """Its relative times ("5 minutes ago", "happened 2 days ago") in the page's language,
    from memory in this process and from Redis, word for word as a page made at that moment."""
    from secgo.models import Order, User

    with app.app_context():
        db.session.execute(update(Order).values(status="in_production"))
        db.session.get(User, world.users["producer"]).locale = language
        db.session.commit()
    now = stopped_clock.at()
    _set_times(app, "UPDATE status_updates SET recorded_at = :r, occurred_at = :o",
               r=now - timedelta(minutes=3), o=now - timedelta(days=2, hours=5))
    _set_times(app, "UPDATE orders SET created_at = :t", t=now - timedelta(hours=1, minutes=14))
    kept = _kept_order_page(app, producer)
    token = re.compile(r'name="csrf_token" value="[^"]+"')  # (signed with the time)
    for step in (50, 3600 + 20):  # to the next minute's words, then the next hour's
        stopped_clock.now += step
        served = _page(producer)
        assert not _rendered(app, producer, WORLD_ORDER)
        app.extensions[pagecache.STORE_EXTENSION].local.clear()
        from_redis = _page(producer)
        app.config["PAGE_CACHE"] = False
        try:
            made = _page(producer)
        finally:
            app.config["PAGE_CACHE"] = True
        pages = [token.sub("", CLIENT_ID.sub("", page)) for page in (served, from_redis, made)]
        assert pages[0] == pages[1] == pages[2]
        assert pages[0] != token.sub("", CLIENT_ID.sub("", kept))  # the words moved on
        assert f'<html lang="{language}"' in served and "when-" not in served


def test_an_order_page_shows_its_routes_expected_arrival_as_soon_as_the_figures_move(
        app, world, producer, stopped_clock):
    """The rollup moves with deliveries on other orders (no version of this order covers it):
    the page is made again when its route's figures move, and kept while they stay."""
    from sqlalchemy import insert

    from secgo.models import Order, RouteTime

    with app.app_context():
        db.session.execute(update(Order).values(status="in_transit"))
        order = db.session.scalar(select(Order).where(Order.reference == WORLD_ORDER.rsplit("/", 1)[1]))
        route = {"producer_country": order.producer_org.country,
                 "producer_province": order.producer_org.province or "",
                 "customer_org_id": order.customer_org_id, "crossing": order.border_crossing or ""}
        db.session.commit()

    def set_route(values, **where):
        with app.app_context():
            db.session.execute(update(RouteTime).where(*(getattr(RouteTime, k) == v for k, v in where.items()))
                               .values(**values))
            db.session.commit()

    def add_route(**row):
        with app.app_context():
            db.session.execute(insert(RouteTime), [row])
            db.session.commit()

    assert 'class="arrival"' not in _kept_order_page(app, producer)
    add_route(**route, deliveries=4, low_days=3, high_days=4)  # too few to say
    assert _rendered(app, producer, WORLD_ORDER)
    assert 'class="arrival"' not in _kept_order_page(app, producer)
    set_route({"deliveries": 5}, customer_org_id=route["customer_org_id"])
    assert _rendered(app, producer, WORLD_ORDER)
    shown = _kept_order_page(app, producer)
    assert 'class="arrival"' in shown and "3–4" in shown
    add_route(**{**route, "crossing": "another-crossing"}, deliveries=9, low_days=1, high_days=2)
    stopped_clock.now += 120  # no clock on it: kept while the figures stay
    assert not _rendered(app, producer, WORLD_ORDER)
    set_route({"low_days": 5, "high_days": 7}, crossing=route["crossing"],
              customer_org_id=route["customer_org_id"])
    assert _rendered(app, producer, WORLD_ORDER)
    assert "5–7" in _page(producer)


def test_a_kept_list_is_made_again_at_the_viewers_midnight(app, world, client, auth, stopped_clock,
                                                             monkeypatch):
    """Overdue is judged on the viewer's today (Asia/Bangkok here, not UTC's)."""
    from datetime import UTC, datetime

    from secgo.orders import services

    def durian_row():
        return next(row for row in _orders(client).split('class="card order-card"') if "Durian" in row)

    monkeypatch.setattr(services, "utcnow", stopped_clock.at)
    make_order(app, world, product="Durian", due_date="2026-03-01")
    auth.login("producer")
    bangkok_midnight = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
    stopped_clock.now = (bangkok_midnight - timedelta(minutes=1)).timestamp()
    assert _rendered(app, client, "/orders")
    assert "Overdue" not in durian_row()  # due today
    stopped_clock.now += 59
    assert not _rendered(app, client, "/orders")
    stopped_clock.now += 1  # 2 March in Bangkok
    assert _rendered(app, client, "/orders")
    assert "Overdue" in durian_row()


# --- the order page is keyed by its own order: writes elsewhere leave it kept ---------------

TAB_COUNT = re.compile(r'href="/orders"[^>]*><span class="tab-label">[^<]*</span>'
                       r'(?: <span class="tab-count"[^>]*>(\d+)</span>)?')


def _orders_tab_number(page) -> int:
    return int(TAB_COUNT.search(page)[1] or 0)


def _update_on(reference, name="producer", note="Truck left"):
    def change(person, _order):
        from secgo.models import Order
        from secgo.orders import services

        other = db.session.scalar(select(Order).where(Order.reference == reference))
        services.post_update(person(name), other, {"status": "note", "note": note})
    return change


def _as_signed_in(app, world, name, change):
    """Run the change in a request of that person (their own activity marks itself seen)."""
    from flask_login import login_user

    from secgo.models import User

    with app.test_request_context():
        login_user(db.session.get(User, world.users[name]))
        change(lambda n: db.session.get(User, world.users[n]), None)
        db.session.commit()


def test_a_write_on_another_order_leaves_the_order_pages_kept_with_their_tab_numbers_moved(
        app, world, producer):
    other = make_order(app, world, product="Rattan basket")  # news for everyone who sees it
    clients = _signed_in(app, SEES_WORLD_ORDER)
    numbers = {name: _orders_tab_number(_kept_order_page(app, client)) for name, client in clients.items()}
    assert all(n >= 1 for n in numbers.values()), numbers  # the new order is news to each
    assert _rerendered(app, clients, WORLD_ORDER) == set()
    # The producer writes on the other order: for the others it was news already (the number
    # stays); for the producer it no longer is (their own activity), so theirs moves, and
    # every page stays kept: the numbers are put in as it is served.
    _as_signed_in(app, world, "producer", _update_on(other))
    assert _rerendered(app, clients, WORLD_ORDER) == set()
    assert _orders_tab_number(_page(clients["producer"])) == numbers["producer"] - 1
    for name in SEES_WORLD_ORDER - {"producer"}:
        assert _orders_tab_number(_page(clients[name])) == numbers[name], name
    # The world's order itself changes: every page of it is made again.
    _in_request(app, _status_update)
    assert _rerendered(app, clients, WORLD_ORDER) == SEES_WORLD_ORDER


@pytest.mark.parametrize("language", ["km", "my", "en"])
def test_a_kept_order_page_shows_its_tab_numbers_as_a_page_made_now_would(app, world, producer, language):
    from tests.conftest import Auth

    for product in ("Rattan basket", "Ikat silk"):
        make_order(app, world, product=product)  # two orders with news for the customer
    with app.app_context():
        from secgo.models import User

        db.session.get(User, world.users["customer"]).locale = language
        db.session.commit()
    customer = app.test_client()
    Auth(customer).login("customer")
    kept = _kept_order_page(app, customer)
    assert f'<html lang="{language}"' in kept
    for _ in range(2):  # from memory, in this process and (its memory cleared) from Redis
        served = _page(customer)
        assert not _rendered(app, customer, WORLD_ORDER)
        app.extensions[pagecache.STORE_EXTENSION].local.clear()
    app.config["PAGE_CACHE"] = False
    try:
        made = _page(customer)
    finally:
        app.config["PAGE_CACHE"] = True
    token = re.compile(r'name="csrf_token" value="[^"]+"')  # (signed with the time)
    without_ids = [token.sub("", CLIENT_ID.sub("", page)) for page in (kept, served, made)]
    assert without_ids[0] == without_ids[1] == without_ids[2]
    assert 'class="tab-count"' in served and "tab-number-" not in served
    assert _orders_tab_number(served) >= 2  # (Khmer and Burmese digits are digits too)


def test_news_on_another_order_shows_in_the_kept_order_pages_tab_bar_at_once(app, world, producer,
                                                                               tmp_path):
    from tests.conftest import Auth

    other = make_order(app, world, product="Rattan basket")
    clients = _signed_in(app, ["customer"])
    customer = clients["customer"]
    _kept_order_page(app, customer, f"/orders/{other}")  # the customer has seen the other order
    before = _orders_tab_number(_kept_order_page(app, customer))
    second = _second_instance(app, tmp_path)  # another instance, same database
    writer = second.test_client()
    Auth(writer).login("producer")
    assert post_update(writer, other, "note", "Packed and labelled").status_code == 303
    assert _orders_tab_number(_page(customer)) == before + 1  # news elsewhere: the number moves
    assert not _rendered(app, customer, WORLD_ORDER)  # and that page is kept again
    with second.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_order_pages_and_issues_lists_key_reads_the_tab_numbers_as_the_tab_bar_counts_them(
        app, world, producer):
    from secgo import readmarks
    from secgo.models import User, UserSession, hash_token
    from secgo.pagecache import user_and_version

    make_order(app, world, product="Rattan basket")
    make_order(app, world, product="Ikat silk", producer="weaver", customer="buyer")
    with app.app_context():
        for name in EVERYONE:
            user = db.session.get(User, world.users[name])
            user.login_id = f"{name}-sign-in"  # authenticated for authz
            counts = readmarks.tab_counts(user)
            sign_in = UserSession(user_id=user.id, secret_hash=hash_token("s" * 32))
            db.session.add(sign_in)
            db.session.commit()
            conn = db.session.connection()
            row = user_and_version(conn.engine, conn.connection.driver_connection,
                                   f"{sign_in.id}.{'s' * 32}", app.config["REMEMBER_COOKIE_DURATION"],
                                   "order", "sec-wrld01")
            assert pagecache.tab_numbers(row, "order") == counts, name
            assert (row[7] is not None) == (name in SEES_WORLD_ORDER), name
            row = user_and_version(conn.engine, conn.connection.driver_connection,
                                   f"{sign_in.id}.{'s' * 32}", app.config["REMEMBER_COOKIE_DURATION"],
                                   "issues")
            assert pagecache.tab_numbers(row, "issues") == counts, name


def test_an_order_page_is_never_answered_to_who_may_no_longer_see_the_order(app, world, one_minute):
    from secgo.models import Cluster, Order, User

    clients = _signed_in(app, ["producer", "customer", "coordinator", "admin"])
    for client in clients.values():
        _kept_order_page(app, client)
    with app.app_context():  # the order's customer organization changes
        db.session.scalar(select(Order).where(Order.reference == "SEC-WRLD01")).customer_org_id = \
            world.orgs["other_buyer"]
        db.session.commit()
    assert clients["customer"].get(WORLD_ORDER).status_code == 404
    assert clients["producer"].get(WORLD_ORDER).status_code == 200
    with app.app_context():  # the producer organization moves to another cluster
        other = Cluster(name="Kampot pepper", country="KH", province="Kampot", product="pepper")
        db.session.add(other)
        db.session.flush()
        db.session.get(Organization, world.orgs["farm"]).cluster_id = other.id
        db.session.commit()
    assert clients["coordinator"].get(WORLD_ORDER).status_code == 404
    assert clients["admin"].get(WORLD_ORDER).status_code == 200
    with app.app_context():  # the producer is deactivated
        db.session.get(User, world.users["producer"]).active = False
        db.session.commit()
    assert clients["producer"].get(WORLD_ORDER).status_code == 302


def test_a_new_papers_checklist_for_the_crossing_shows_at_once_on_its_orders_pages(app, world, producer):
    from secgo.documents.services import set_checklist
    from secgo.models import Order, User

    with app.app_context():  # a finished order over Bavet: its "missing papers" stay as they are
        order = db.session.scalar(select(Order).where(Order.reference == "SEC-WRLD01"))
        order.border_crossing, order.status = "bavet_moc_bai", "delivered"
        db.session.commit()
    clients = _signed_in(app, ["producer", "customer"])
    for client in clients.values():
        assert 'class="checklist"' not in _kept_order_page(app, client)
    with app.test_request_context():
        set_checklist(db.session.get(User, world.users["coordinator"]), "bavet_moc_bai", "",
                      ["phytosanitary"])
        db.session.commit()
    assert _rerendered(app, clients, WORLD_ORDER) == {"producer", "customer"}
    assert 'class="checklist"' in _page(clients["customer"])


def test_a_note_leaves_the_issues_lists_kept_with_their_tab_numbers_moved(app, world, one_minute):
    other = make_order(app, world, product="Rattan basket")  # news for everyone who sees it
    clients = _signed_in(app, SEES_WORLD_ORDER)
    numbers = {name: _orders_tab_number(client.get("/issues").get_data(as_text=True))
               for name, client in clients.items()}
    assert _rerendered(app, clients, "/issues") == set()
    # A note on the other order: news already for the others; no longer for the producer.
    _as_signed_in(app, world, "producer", _update_on(other))
    assert _rerendered(app, clients, "/issues") == set()
    for name, client in clients.items():
        shown = _orders_tab_number(client.get("/issues").get_data(as_text=True))
        assert shown == numbers[name] - (name == "producer"), name
    _in_request(app, _issue)  # an issue on the world's order: on every list that shows it
    assert _rerendered(app, clients, "/issues") == SEES_WORLD_ORDER


def test_on_postgresql_the_pages_key_is_read_with_its_plan_made_once_and_leaves_the_connection_as_it_was(
        app, world, producer):
    """The key's statement (every role's rules in one) was planned anew at each request, three
    times the cost of running it: PageFront reads it with a generic plan, set for it alone."""
    from secgo.models import UserSession, hash_token
    from secgo.pagecache import user_and_version

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's plan cache")
        sign_in = UserSession(user_id=world.users["producer"], secret_hash=hash_token("s" * 32))
        db.session.add(sign_in)
        db.session.commit()
        raw = db.engine.raw_connection()
        try:
            driver = raw.driver_connection
            driver.autocommit = True  # as PageFront reads it
            for kind in ("orders", "issues", "order"):
                rows = {user_and_version(db.engine, driver, f"{sign_in.id}.{'s' * 32}",
                                         app.config["REMEMBER_COOKIE_DURATION"], kind, "sec-wrld01")
                        for _ in range(8)}  # (psycopg prepares a statement at its fifth run)
                assert len(rows) == 1 and next(iter(rows))[0] == world.users["producer"], kind
                assert driver.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"
            plans = driver.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                   "WHERE statement LIKE '%page_cache_user%'").fetchall()
            assert len(plans) == 3 and all(generic > 0 and custom == 0 for generic, custom in plans), plans
            driver.autocommit = False
        finally:
            raw.close()


def test_on_postgresql_the_pages_key_is_planned_once_per_connection_however_many_pages_are_made(
        app, world, client, auth):
    """Each request's ROLLBACK made psycopg forget its prepared statements, so the key's
    statement was parsed and planned at every request: PageFront reads it on connections of
    its own (autocommit, generic plans), where it stays prepared."""
    ref = make_order(app, world)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's prepared statements")
    auth.login("producer")
    for i in range(8):
        for path in ("/orders", "/issues", f"/orders/{ref}"):
            assert client.get(path).status_code == 200
        post_update(client, ref, "note", f"Note {i}")  # every page is made again
    with app.app_context():
        front = pagecache.front_engine(db.engine)
        assert front is pagecache.front_engine(db.engine)
        with front.connect() as conn:
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_generic_plan"
            plans = conn.exec_driver_sql(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE strpos(statement, 'page_cache_user') > 0").all()
        # On the one connection the test client used: three statements, each planned once
        # and run at every request (kept or not).
        assert len(plans) == 3 and all(generic >= 8 and custom == 0 for generic, custom in plans), plans
        # The app's own connections are left as they were.
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"


def test_a_page_is_made_again_at_once_after_the_database_dropped_the_page_keys_connection(
        app, world, client, auth):
    ref = make_order(app, world, product="Silk scarf")
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PageFront's own connections are PostgreSQL's")
    auth.login("producer")
    assert "Silk scarf" in _orders(client)
    with app.app_context():
        front = pagecache.front_engine(db.engine)
        with front.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with db.engine.connect() as conn:  # as a database restart would; waits until it is gone
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid}, 5000)")
    post_update(client, ref, "dispatched", "Truck left")
    assert "Dispatched" in _orders(client)  # read on a new connection, not an error page
    with app.app_context(), front.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid


def test_organizations_whose_lists_both_change_go_up_in_one_statement_each_list_by_its_own_rule(app, world):
    """A flush that changes the orders of some organizations and the issues of others (here
    with one in both) puts each version up where its rule says, in one UPDATE."""
    farm, weaver, buyer = (world.orgs[name] for name in ("farm", "weaver", "buyer"))
    table = Organization.__table__
    with app.app_context():
        def versions():
            rows = db.session.execute(select(table.c.id, table.c.data_version, table.c.issues_version)
                                      .where(table.c.id.in_([farm, weaver, buyer]))).all()
            db.session.rollback()  # (SQLite: no read left open beside the write below)
            return {row.id: (row.data_version, row.issues_version) for row in rows}

        before = versions()
        statements = []
        engine = db.engine
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            with engine.begin() as conn:
                pagecache._bump_organizations(conn, {farm, weaver, None}, {weaver, buyer}, set(), set())
                # once per transaction: asked again, nothing more happens
                pagecache._bump_organizations(conn, {farm}, {buyer}, {farm, weaver}, {weaver, buyer})
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        after = versions()
    assert len([s for s in statements if not s.startswith("BEGIN")]) == 1
    assert after[farm] == (before[farm][0] + 1, before[farm][1])
    assert after[weaver] == (before[weaver][0] + 1, before[weaver][1] + 1)
    assert after[buyer] == (before[buyer][0], before[buyer][1] + 1)
