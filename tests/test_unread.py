"""Unread marks: news by someone else since a person last opened an order or an issue shows
in the lists, on the tabs and as a divider on the page, without push; one's own activity and
reads through the API do not count; the page cache never shows a mark that was cleared."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from secgo import readmarks
from secgo.extensions import db
from secgo.models import Issue, Order, ReadMark, User, utcnow
from tests.test_orders import count_queries, make_order, post_update

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
pytestmark = pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
NEW = "New activity"
DIVIDER = "New since your last visit"


def tab_count(html, label):
    """The number on a tab ("" when it shows none)."""
    match = re.search(rf'<span class="tab-label">{label}</span>( <span class="tab-count"[^>]*>([^<]+)</span>)?', html)
    assert match, label
    return match.group(2) or ""


def card(html, ref):
    return html.split(f'<strong class="ref">{ref}</strong>', 1)[1].split("</li>", 1)[0]


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def visit_both(client, auth, ref):
    """Producer and customer each open the order once (their first marks)."""
    for who in ("producer", "customer"):
        auth.login(who)
        page(client, f"/orders/{ref}")
        auth.logout()


def test_an_update_is_news_for_the_customer_until_they_open_the_order(app, world, client, auth):
    ref = make_order(app, world, product="Jasmine rice")
    visit_both(client, auth, ref)
    auth.login("producer")
    assert post_update(client, ref, "dispatched", "Truck left Takeo").status_code == 303
    mine = page(client, "/orders")
    assert NEW not in card(mine, ref) and tab_count(mine, "Orders") == ""  # my own update
    auth.logout()

    auth.login("customer")
    listing = page(client, "/orders")  # kept by the page cache from here on
    assert NEW in card(listing, ref) and "data-unread" in listing
    assert tab_count(listing, "Orders") == "1"
    assert "1 with new activity" in listing
    order_page = page(client, f"/orders/{ref}")
    assert DIVIDER in order_page
    assert order_page.index("Truck left Takeo") < order_page.index(DIVIDER)  # newest first, above it
    again = page(client, "/orders")
    assert NEW not in card(again, ref) and tab_count(again, "Orders") == ""  # not a kept copy
    assert DIVIDER not in page(client, f"/orders/{ref}")  # seen now


def test_a_reply_to_my_issue_is_waiting_for_me_and_marked_until_i_open_it(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    raised = client.post(f"/orders/{ref}/issues/new", data={
        "category": "quantity", "severity": "high", "title": "Ten bags short"})
    assert raised.status_code == 303
    issue_id = int(raised.headers["Location"].rsplit("/", 1)[1])
    page(client, f"/issues/{issue_id}")
    waiting = page(client, "/issues?tab=waiting")
    assert "Ten bags short" not in waiting  # nobody answered yet: it waits for the producer
    auth.logout()

    auth.login("producer")
    assert client.post(f"/issues/{issue_id}/comments",
                       data={"body": "We send the ten bags on Monday"}).status_code == 303
    auth.logout()

    auth.login("customer")
    waiting = page(client, "/issues?tab=waiting")
    item = waiting.split("Ten bags short", 1)[0].rsplit("<li", 1)[1]
    assert "data-unread" in item and tab_count(waiting, "Issues") == "1"
    detail = page(client, f"/issues/{issue_id}")
    assert detail.index(DIVIDER) < detail.index("We send the ten bags on Monday")
    assert detail.index("Ten bags short") < detail.index("History and messages") < detail.index("Write a message")
    after = page(client, "/issues?tab=waiting")
    assert "Ten bags short" in after and tab_count(after, "Issues") == ""  # still mine to answer
    assert DIVIDER not in page(client, f"/issues/{issue_id}")


def test_my_own_writes_through_the_api_are_not_news_to_me_and_api_reads_mark_nothing(app, world, client, auth):
    ref = make_order(app, world)
    visit_both(client, auth, ref)
    auth.login("producer")
    headers = {"Idempotency-Key": "api-unread-0001"}
    assert client.post(f"/api/v1/orders/{ref}/updates", json={"status": "ready"},
                       headers=headers).status_code == 201
    mine = client.get("/api/v1/orders").json["items"]
    assert [o["unread"] for o in mine if o["reference"] == ref] == [False]
    auth.logout()
    auth.login("customer")
    for _ in range(2):  # reading the order and the list through the API marks nothing seen
        assert client.get(f"/api/v1/orders/{ref}").status_code == 200
        theirs = client.get("/api/v1/orders").json["items"]
        assert [o["unread"] for o in theirs if o["reference"] == ref] == [True]
    page(client, f"/orders/{ref}")
    theirs = client.get("/api/v1/orders").json["items"]
    assert [o["unread"] for o in theirs if o["reference"] == ref] == [False]


def test_issue_lists_in_the_api_say_which_are_unread(app, world, client, auth):
    auth.login("producer")
    assert client.post(f"/issues/{world.issue}/comments", data={"body": "On it"}).status_code == 303
    auth.logout()
    auth.login("customer")
    items = {i["id"]: i for i in client.get("/api/v1/issues?tab=all").json["items"]}
    assert items[world.issue]["unread"] is True
    assert client.get(f"/api/v1/issues/{world.issue}").status_code == 200
    items = {i["id"]: i for i in client.get("/api/v1/issues?tab=all").json["items"]}
    assert items[world.issue]["unread"] is True
    page(client, f"/issues/{world.issue}")
    items = {i["id"]: i for i in client.get("/api/v1/issues?tab=all").json["items"]}
    assert items[world.issue]["unread"] is False
    assert "unread" in client.get("/api/v1/openapi.json").json["components"]["schemas"]["Issue"]["properties"]


def test_old_activity_and_activity_before_the_account_are_not_news(app, world, client, auth):
    ref = make_order(app, world)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        order.last_activity_at = utcnow() - timedelta(days=readmarks.UNREAD_DAYS + 1)
        db.session.commit()
    auth.login("customer")
    assert NEW not in card(page(client, "/orders"), ref)


def test_a_mark_is_inserted_then_only_moved_forward(app, world):
    with app.app_context():
        user = db.session.get(User, world.users["customer"])
        later = utcnow()
        readmarks.mark_seen(user, "order", 42, later)
        readmarks.mark_seen(user, "order", 42, later - timedelta(hours=1))  # never back
        db.session.commit()
        assert readmarks.last_seen(user, "order", 42) == later
        readmarks.mark_seen(user, "order", 42, later + timedelta(minutes=1))
        db.session.commit()
        assert readmarks.last_seen(user, "order", 42) == later + timedelta(minutes=1)
        assert db.session.scalar(select(db.func.count()).select_from(ReadMark)) == 1


def test_tab_counts_stop_at_the_cap(app, world, client, auth, monkeypatch):
    monkeypatch.setattr(readmarks, "COUNT_CAP", 3)
    monkeypatch.setitem(app.jinja_env.globals, "UNREAD_CAP", 3)
    for i in range(5):
        make_order(app, world, product=f"Lot {i}")
    auth.login("customer")
    assert tab_count(page(client, "/settings"), "Orders") == "3+"


def test_the_orders_list_reads_its_tab_numbers_with_its_count(app, world, client, auth):
    """The same numbers as every other page's tab bar, in the statement that reads the list's
    rows and counts them; a page past the last still shows the last, with the same numbers."""
    from sqlalchemy import event

    for i in range(3):
        make_order(app, world, product=f"Lot {i}")
    auth.login("customer")
    app.config["PAGE_CACHE"] = False  # (no key statement: the sign-in is read by Flask too)
    with app.app_context():
        engine = db.engine
    reads = []

    def seen(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        listing = page(client, "/orders")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert tab_count(listing, "Orders") == tab_count(page(client, "/settings"), "Orders") == "3"
    assert len(reads) == 2 and "count(" in reads[1]  # the sign-in; the rows, their count, the numbers
    past = page(client, "/orders?page=9")
    assert "Page 1 of 1" in past and past.count('class="card order-card"') == 4  # the world's own too
    assert tab_count(past, "Orders") == "3"


def test_the_issues_list_and_its_api_read_each_issues_news_and_the_count_with_the_issues(
        app, world, client, auth):
    """The issues the list shows, which of them have news for the viewer and how many there
    are: one statement, for the page and the API alike; the one the viewer opened since shows
    no news, the others do."""
    from sqlalchemy import event

    from tests.issue_factories import raise_as

    refs = [make_order(app, world, product=f"Lot {i}") for i in range(3)]
    with app.app_context():
        ids = [raise_as("producer", db.session.scalar(select(Order).filter_by(reference=ref)),
                        title=f"Short {n}", now=utcnow()).id for n, ref in enumerate(refs)]
        db.session.commit()
    auth.login("customer")
    assert client.get(f"/issues/{ids[1]}").status_code == 200  # opened: no news since
    app.config["PAGE_CACHE"] = False
    with app.app_context():
        engine = db.engine
    reads = []

    def seen(conn, cursor, statement, *args):
        if "issues.title" in statement or "issues.id IN" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        listing = page(client, "/issues?tab=all")
        listed = list(reads)
        reads.clear()
        api = client.get("/api/v1/issues?tab=all").get_json()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(listed) == 1 and "count(" in listed[0] and "read_marks" in listed[0], listed
    assert len(reads) == 1 and "count(" in reads[0], reads
    shown = {item["id"]: item["unread"] for item in api["items"] if item["id"] in ids}
    assert shown == {ids[0]: True, ids[1]: False, ids[2]: True}
    assert api["total"] == len(api["items"]) >= 3 and api["more"] is False
    cards = {n: listing.split(f"Short {n}")[0].rsplit("<li", 1)[-1] for n in range(3)}
    assert ["data-unread" in cards[n] for n in range(3)] == [True, False, True]


def test_marks_cost_the_same_queries_for_few_or_many_unread(app, world, client, auth):
    for i in range(3):
        make_order(app, world, product=f"Lot {i}")
    auth.login("customer")
    app.config["PAGE_CACHE"] = False
    few = {url: count_queries(app, client, url) for url in ("/orders", "/issues?tab=all", "/settings")}
    for i in range(30):
        make_order(app, world, product=f"More {i}")
    with app.app_context():
        from tests.issue_factories import raise_as

        for order in db.session.scalars(select(Order)).all()[:20]:
            raise_as("producer", order, title=f"Short {order.id}", now=utcnow())
        db.session.commit()
        assert db.session.scalar(select(db.func.count(Issue.id))) > 20
    many = {url: count_queries(app, client, url) for url in few}
    assert few == many
    ref = make_order(app, world)
    first = count_queries(app, client, f"/orders/{ref}")  # no mark yet
    assert count_queries(app, client, f"/orders/{ref}") <= first  # read already: not marked again


def test_the_page_that_failed_marks_nothing(app, world, client, auth):
    auth.login("other_customer")
    assert client.get(f"/issues/{world.issue}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(ReadMark)) == 0


def test_opening_an_order_while_others_write_still_marks_it_read(app, world, client, auth, monkeypatch):
    """The page is read in one transaction and the mark written after it: someone else's
    write in between (SQLite: the read snapshot is then out of date) must not lose the mark."""
    ref = make_order(app, world)
    auth.login("customer")
    real_last_seen = readmarks.last_seen

    def with_a_write_in_between(*args):
        seen = real_last_seen(*args)  # the page's reading has begun
        with db.engine.connect() as other:  # another request, committing meanwhile
            other.execute(Order.__table__.update().where(Order.reference == ref).values(notes="meanwhile"))
            other.commit()
        return seen

    monkeypatch.setattr(readmarks, "last_seen", with_a_write_in_between)
    page(client, f"/orders/{ref}")
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        assert readmarks.last_seen(db.session.get(User, world.users["customer"]), "order", order.id) is not None


def test_opening_an_order_with_nothing_new_keeps_the_orders_list_kept(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    page(client, f"/orders/{ref}")  # read: marked
    page(client, "/orders")
    kept = count_queries(app, client, "/orders")
    page(client, f"/orders/{ref}")  # nothing new since: nothing to mark
    assert count_queries(app, client, "/orders") == kept  # still answered from the cache
    auth.logout()
    auth.login("producer")
    answer = post_update(client, ref, "dispatched", "Truck left Takeo")
    assert answer.status_code == 303
    auth.logout()
    auth.login("customer")
    assert NEW in card(page(client, "/orders"), ref)
    page(client, f"/orders/{ref}")  # news: marked read, and the list shows it at once
    assert NEW not in card(page(client, "/orders"), ref)


def test_opening_an_order_that_was_not_news_keeps_the_lists_kept_and_marks_it_read(app, world, client, auth):
    ref = make_order(app, world)
    with app.app_context():  # activity before the customer's floor: not news
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        order.last_activity_at = utcnow() - timedelta(days=readmarks.UNREAD_DAYS + 1)
        db.session.commit()
    auth.login("customer")
    page(client, "/orders")
    kept = count_queries(app, client, "/orders")
    assert DIVIDER not in page(client, f"/orders/{ref}")
    assert count_queries(app, client, "/orders") == kept  # the list still answered from the cache
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(ReadMark)) == 0  # no news: no mark
    auth.logout()
    auth.login("producer")
    assert post_update(client, ref, "dispatched", "Truck left Takeo").status_code == 303
    auth.logout()
    auth.login("customer")
    assert NEW in card(page(client, "/orders"), ref)
    assert "Truck left Takeo" in page(client, f"/orders/{ref}")  # news: marked read
    assert NEW not in card(page(client, "/orders"), ref)


def tab_labels(html):
    """(label, number, current) of each tab in the bar, in order."""
    bar = html.split('<nav class="tabs"', 1)[1].split("</nav>", 1)[0]
    return [(label, number or "", bool(current)) for current, label, number in re.findall(
        r'<a href="[^"]+"( aria-current="page")?><span class="tab-label">([^<]+)</span>'
        r'(?: <span class="tab-count"[^>]*>([^<]+)</span><span class="visually-hidden">[^<]+</span>)?</a>',
        bar)]


def test_the_tab_bar_written_once_is_each_persons_in_their_language_with_their_numbers(app, world, client, auth):
    ref = make_order(app, world, product="Jasmine rice")
    visit_both(client, auth, ref)
    auth.login("producer")
    assert tab_labels(page(client, "/orders")) == [("Orders", "", True), ("Issues", "", False),
                                                  ("Settings", "", False)]
    assert post_update(client, ref, "dispatched", "Truck left Takeo").status_code == 303
    auth.logout()
    auth.login("coordinator")
    coordinator = tab_labels(page(client, "/issues"))
    assert coordinator[0] == ("Dashboard", "", False) and ("Issues", "", True) in coordinator
    auth.logout()
    auth.login("customer")
    assert tab_labels(page(client, "/issues"))[:2] == [("Orders", "1", False), ("Issues", "", True)]
    client.post("/language", data={"lang": "km"})
    in_khmer = tab_labels(page(client, "/issues"))
    assert in_khmer[0][1:] == ("1", False) and in_khmer[1][2] and "Orders" not in str(in_khmer)
    page(client, f"/orders/{ref}")  # read: the number goes
    assert tab_labels(page(client, "/issues"))[0] == (in_khmer[0][0], "", False)
    written = len(app.extensions["secgo.tab_bars"])
    page(client, "/issues")
    page(client, "/orders")
    assert len(app.extensions["secgo.tab_bars"]) == written + 1  # the orders list's bar: new; the other kept
