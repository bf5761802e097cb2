"""Orders over HTTP: list, search, create, the order page, status updates, confirmation, delivery."""
import re

import pytest
from sqlalchemy import event, select

from secgo.extensions import db
from secgo.models import (
    DeliveryConfirmation,
    Issue,
    Notification,
    Order,
    Organization,
    StatusUpdate,
    User,
)
from secgo.orders import services
from secgo.orders.services import REFERENCE_ALPHABET

NO_CSRF = [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}]
pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)


def make_order(app, world, *, product="Organic jasmine rice", producer="farm", customer="buyer",
               **extra):
    """Create an order through the service, as the producer of that organization."""
    with app.test_request_context():
        producer_org = db.session.get(Organization, world.orgs[producer])
        actor = db.session.scalar(select(User).where(User.organization_id == producer_org.id))
        data = {"customer_org_id": world.orgs[customer], "product": product, "quantity": "100",
                "unit": "kg", "origin": "Takeo", "destination": "Bangkok", **extra}
        order = services.create_order(actor, data)
        db.session.commit()
        return order.reference


def order_of(ref):
    return db.session.scalar(select(Order).where(Order.reference == ref))


def post_update(client, ref, status, note="", **data):
    return client.post(f"/orders/{ref}/updates", data={"status": status, "note": note, **data})


def test_a_new_order_gets_a_friendly_reference_and_shows_up_in_the_list(app, world, client, auth):
    auth.login("producer")
    response = client.post("/orders/new", data={
        "customer_org_id": world.orgs["buyer"], "product": "Gốm Bát Tràng", "quantity": "1,200",
        "unit": "pcs", "origin": "Hà Nội", "destination": "Bangkok", "due_date": "2030-01-31",
        "value": "18500", "currency": "USD",
    })
    assert response.status_code == 303
    ref = response.headers["Location"].rsplit("/", 1)[1]
    assert re.fullmatch(rf"SEC-[{REFERENCE_ALPHABET}]{{6}}", ref)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == ref))
        assert order.quantity == 1200 and order.status == "accepted"
    page = client.get("/orders").get_data(as_text=True)
    assert ref in page and "Bangkok Buyer" in page


def test_a_customer_creates_an_order_by_choosing_the_producer(app, world, client, auth):
    auth.login("customer")
    response = client.post("/orders/new", data={
        "producer_org_id": world.orgs["farm"], "product": "Rice", "quantity": "5", "unit": "t",
        "origin": "Takeo", "destination": "Bangkok"})
    assert response.status_code == 303


def test_order_form_explains_what_is_wrong_and_saves_nothing(app, world, client, auth):
    auth.login("producer")
    with app.app_context():
        before = db.session.scalar(select(db.func.count(Order.id)))
    response = client.post("/orders/new", data={
        "customer_org_id": world.orgs["farm"], "product": "x" * 500, "quantity": "-3",
        "unit": "", "origin": "Takeo", "destination": "Bangkok", "currency": "EUR", "value": "1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "At most 120 characters." in page and "Please fill this in." in page
    assert "This number is out of range." in page
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Order.id))) == before


def test_producer_reports_status_and_customer_confirms_it(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = post_update(client, ref, "in_production", "Milling started")
    assert response.status_code == 303
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Milling started" in page and "In production" in page
    auth.logout()
    auth.login("customer")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "data-confirm=" in page and "This is wrong" in page
    with app.app_context():
        update = db.session.scalar(select(StatusUpdate))
        events = [n.event for n in db.session.scalars(select(Notification))]
    assert "status_update" in events
    awaiting = client.get("/orders/awaiting").get_data(as_text=True)
    assert "Milling started" in awaiting
    response = client.post(f"/orders/{ref}/updates/{update.id}/confirm", data={"comment": "Thanks"})
    assert response.status_code == 303
    with app.app_context():
        update = db.session.get(StatusUpdate, update.id)
        assert update.confirmed_at is not None and update.confirm_comment == "Thanks"
        producer_notes = db.session.scalars(select(Notification).where(
            Notification.event == "confirmation")).all()
        assert [n.user_id for n in producer_notes] == [world.users["producer"]]
        assert producer_notes[0].params == {"reference": ref, "status": "in_production"}
    assert "Nothing is waiting" in client.get("/orders/awaiting").get_data(as_text=True)
    again = client.post(f"/orders/{ref}/updates/{update.id}/confirm", data={})
    assert again.status_code == 409


def test_a_customer_may_not_post_a_status_but_may_add_a_note(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    assert post_update(client, ref, "dispatched").status_code == 403
    assert post_update(client, ref, "note", "Please call the driver").status_code == 303


def test_a_producer_may_not_confirm_its_own_update(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, "ready")
    with app.app_context():
        update_id = db.session.scalar(select(StatusUpdate.id))
    assert client.post(f"/orders/{ref}/updates/{update_id}/confirm").status_code == 403


def test_another_organizations_order_is_not_found(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("other_producer")
    assert client.get(f"/orders/{ref}").status_code == 404
    assert post_update(client, ref, "ready").status_code == 404
    auth.logout()
    auth.login("other_customer")
    assert client.get(f"/orders/{ref}").status_code == 404
    assert ref not in client.get("/orders").get_data(as_text=True)


def test_status_moves_forward_and_a_finished_order_takes_only_notes(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    assert post_update(client, ref, "dispatched").status_code == 303
    assert post_update(client, ref, "ready").status_code == 409  # backwards: use a correction
    assert post_update(client, ref, "delivered").status_code == 303
    refused = post_update(client, ref, "in_transit")
    assert refused.status_code == 409
    assert "you can still add a note" in refused.get_data(as_text=True)
    assert post_update(client, ref, "note", "Paid in full").status_code == 303
    with app.app_context():
        assert order_of(ref).status == "delivered"


def test_unknown_status_code_is_refused(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = post_update(client, ref, "teleported")
    assert response.status_code == 422
    assert "Please choose one of the offered values." in response.get_data(as_text=True)


def test_a_script_in_a_note_is_stored_and_shown_as_text(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, "note", "<script>alert(1)</script><img src=x onerror=alert(2)>")
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "onerror=alert" not in page.replace("onerror=alert(2)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_overlong_note_is_refused_and_nothing_is_saved(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    response = post_update(client, ref, "ready", "x" * 2001)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(StatusUpdate.id)) is None
        assert order_of(ref).status == "accepted"


def test_the_author_corrects_an_update_and_both_stay_in_the_timeline(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    post_update(client, ref, "dispatched", "Truck left")
    with app.app_context():
        wrong = db.session.scalar(select(StatusUpdate.id))
    response = post_update(client, ref, "ready", "Not yet: truck broke down", corrects_id=wrong)
    assert response.status_code == 303
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Truck left" in page and "Not yet: truck broke down" in page and f'href="#u{wrong}"' in page
    with app.app_context():
        assert order_of(ref).status == "ready"
        assert db.session.scalar(select(StatusUpdate).where(StatusUpdate.id != wrong)).corrects_id == wrong
    assert f"/orders/{ref}/correct/{wrong}" in page
    form = client.get(f"/orders/{ref}/correct/{wrong}")
    assert form.status_code == 200 and 'name="corrects_id"' in form.get_data(as_text=True)
    refused = post_update(client, ref, "note", "x" * 2001, corrects_id=wrong)
    assert refused.status_code == 422 and "Correct an update" in refused.get_data(as_text=True)
    auth.logout()
    auth.login("coordinator")
    assert post_update(client, ref, "note", "x", corrects_id=wrong).status_code == 403
    assert client.get(f"/orders/{ref}/correct/{wrong}").status_code == 403


def test_a_short_delivery_opens_an_issue_automatically(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    short = {"received_quantity": "85", "condition": "good", "note": "15 kg missing"}
    warned = client.post(f"/orders/{ref}/delivery", data=short)  # a plain form is asked first
    assert warned.status_code == 422 and "An issue will be opened" in warned.get_data(as_text=True)
    response = client.post(f"/orders/{ref}/delivery", data={**short, "open_issue": "1"})
    assert response.status_code == 303
    with app.app_context():
        order = order_of(ref)
        issue = db.session.scalar(select(Issue).where(Issue.order_id == order.id))
        assert issue.category == "quantity" and issue.raised_by_side == "customer"
        assert db.session.scalar(select(DeliveryConfirmation.condition)) == "short"
        assert order.status == "delivered"
        events = {n.event for n in db.session.scalars(
            select(Notification).where(Notification.order_id == order.id))}
        assert {"delivery", "issue_opened"} <= events
    page = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "Delivery confirmed" in page and "15 kg missing" in page
    assert client.post(f"/orders/{ref}/delivery", data={
        "received_quantity": "100", "condition": "good"}).status_code == 409


def test_a_complete_good_delivery_opens_no_issue(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("customer")
    client.post(f"/orders/{ref}/delivery", data={"received_quantity": "100", "condition": "good"})
    with app.app_context():
        order = order_of(ref)
        assert db.session.scalar(select(Issue.id).where(Issue.order_id == order.id)) is None
        assert db.session.scalar(select(DeliveryConfirmation.id)) is not None


def test_only_the_customer_confirms_delivery(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    assert client.post(f"/orders/{ref}/delivery", data={
        "received_quantity": "100", "condition": "good"}).status_code == 403


@pytest.mark.parametrize("query,found", [
    ("bat trang", True), ("BÁT TRÀNG", True), ("gốm", True), ("ข้าวหอม", True),
    ("ស្រូវ", True), ("ເຂົ້າ", True), ("ဆန်", True), ("bangkok buyer", True), ("durian", False),
])
def test_search_finds_substrings_in_every_script_with_or_without_diacritics(
        app, world, client, auth, query, found):
    ref = make_order(app, world, product="Gốm Bát Tràng ข้าวหอมมะลิ")
    auth.login("producer")
    post_update(client, ref, "note", "អង្ករស្រូវសរីរាង្គ ເຂົ້າໜຽວ ဆန်စပါး")
    page = client.get("/orders", query_string={"q": query}).get_data(as_text=True)
    assert (ref in page) is found


def test_search_by_reference_and_filter_by_status(app, world, client, auth):
    first = make_order(app, world, product="Rice")
    second = make_order(app, world, product="Silk")
    auth.login("producer")
    post_update(client, second, "ready")
    page = client.get("/orders", query_string={"q": first.lower()}).get_data(as_text=True)
    assert first in page and second not in page
    page = client.get("/orders", query_string={"status": "ready"}).get_data(as_text=True)
    assert second in page and first not in page
    page = client.get("/orders", query_string={"q": "100%_"}).get_data(as_text=True)
    assert "No orders match." in page


def test_orders_list_shows_counts_overdue_and_most_recent_activity_first(app, world, client, auth):
    old = make_order(app, world, product="Old order", due_date="2001-01-01")
    new = make_order(app, world, product="New order")
    auth.login("producer")
    post_update(client, old, "ready")
    page = client.get("/orders").get_data(as_text=True)
    assert page.index(old) < page.index(new)
    assert "Overdue" in page and "1 to confirm" in page


def test_orders_list_paginates(app, world, client, auth):
    for i in range(services.PER_PAGE + 3):
        make_order(app, world, product=f"Lot {i}")
    auth.login("producer")
    first = client.get("/orders").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/orders?page=2").get_data(as_text=True)
    with app.app_context():
        total = db.session.scalar(select(db.func.count(Order.id)))
    assert second.count('class="card order-card"') == total - services.PER_PAGE
    assert client.get("/orders?page=banana").status_code == 200


def test_a_long_list_stops_counting_and_says_more_than(app, world, client, auth, monkeypatch):
    """With a million orders the list counts a set number of rows past the page (1,000), not
    all of them: here that number is made two pages."""
    from secgo import counting

    monkeypatch.setattr(counting, "COUNT_AHEAD", 2 * services.PER_PAGE)
    for i in range(2 * services.PER_PAGE + 3):
        make_order(app, world, product=f"Lot {i}")
    auth.login("producer")
    first = client.get("/orders").get_data(as_text=True)
    assert "Page 1 of more than 2" in first and 'rel="next"' in first
    api = client.get("/api/v1/orders").get_json()
    assert (api["total"], api["more"], api["pages"]) == (2 * services.PER_PAGE, True, 2)
    second = client.get("/orders?page=2").get_data(as_text=True)  # the count reaches the end
    assert "Page 2 of 3" in second and 'rel="next"' in second and "more than" not in second
    third = client.get("/orders?page=3").get_data(as_text=True)
    assert "Page 3 of 3" in third and 'rel="next"' not in third
    with app.app_context():
        total = db.session.scalar(select(db.func.count(Order.id)))  # the world's own order too
    assert third.count('class="card order-card"') == total - 2 * services.PER_PAGE
    exact = client.get("/api/v1/orders?page=2").get_json()
    assert (exact["total"], exact["more"]) == (total, False)


def test_a_search_lists_the_same_orders_however_it_is_run(app, world, client, auth, monkeypatch):
    """A search walks the person's orders newest first (one organization's orders; or, on
    SQLite, a word with many matches), or reads the word's matches first: the pages are the
    same either way, and only a search that read every match counts them all."""
    from secgo import counting

    monkeypatch.setattr(counting, "COUNT_AHEAD", services.PER_PAGE)
    for i in range(2 * services.PER_PAGE + 5):
        make_order(app, world, product=f"Keo Romeat mango {i}" if i % 3 else f"Durian {i}")
    mangoes = sum(1 for i in range(2 * services.PER_PAGE + 5) if i % 3)
    auth.login("producer")
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"

    def pages(q):
        api = [client.get(f"/api/v1/orders?q={q}&page={n}").get_json() for n in (1, 2, 3)]
        return [([o["reference"] for o in a["items"]], a["total"], a["more"]) for a in api]

    def refs(runs):
        return {q: [r for r, *_ in p] for q, p in runs.items()}

    walked = {q: pages(q) for q in ("mango", "durian", "zzzz")}  # the producer's own orders
    monkeypatch.setattr(services, "sees_one_organization", lambda actor: False)
    read = {q: pages(q) for q in walked}  # as an admin's search: the matches first
    monkeypatch.setattr(services, "FEW_MATCHES", 3)  # on SQLite: every word now has "many"
    many = {q: pages(q) for q in walked}
    assert refs(walked) == refs(read) == refs(many)
    assert walked["mango"][0][1:] == (services.PER_PAGE, True)  # "more than", counted on later
    assert walked["mango"][1][1:] == (mangoes, False) and walked["zzzz"][0] == ([], 0, False)
    if sqlite:  # few matches read whole: counted exactly
        assert [total for _refs, total, _more in read["mango"]] == [mangoes] * 3
    listed = [ref for refs_, _total, _more in walked["mango"][:2] for ref in refs_]  # 3: the last again
    assert len(listed) == len(set(listed)) == mangoes


def count_queries(app, client, url):
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def test_the_orders_page_makes_the_same_number_of_queries_for_5_or_50_orders(app, world, client, auth):
    for i in range(5):
        make_order(app, world, product=f"Lot {i}")
    auth.login("coordinator")
    few = count_queries(app, client, "/orders")
    for i in range(45):
        make_order(app, world, product=f"More {i}")
    with app.app_context():
        for update_order in db.session.scalars(select(Order)).all()[:30]:
            db.session.add(StatusUpdate(order=update_order, status="ready", note="n"))
        db.session.commit()
    many = count_queries(app, client, "/orders")
    assert few == many, (few, many)
    assert many <= 6


def test_an_update_with_location_shows_a_map_link(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    assert post_update(client, ref, "at_border", latitude="13.66", longitude="102.56").status_code == 303
    assert "openstreetmap.org/?mlat=13.66" in client.get(f"/orders/{ref}").get_data(as_text=True)
    assert post_update(client, ref, "note", latitude="913", longitude="1").status_code == 422


def test_a_plain_form_resubmitted_with_the_same_client_id_creates_one_update(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    for _i in range(2):
        response = post_update(client, ref, "ready", "once", client_id="form-1234-abcd")
        assert response.status_code == 303
    with app.app_context():
        assert len(db.session.scalars(select(StatusUpdate)).all()) == 1


def test_outbox_fetch_gets_json_answers_and_json_errors(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    headers = {"Accept": "application/json", "Idempotency-Key": "outbox-key-0001"}
    ok = client.post(f"/orders/{ref}/updates", data={"status": "ready"}, headers=headers)
    assert ok.status_code == 201 and ok.json["location"].startswith(f"/orders/{ref}")
    replay = client.post(f"/orders/{ref}/updates", data={"status": "ready"}, headers=headers)
    assert replay.status_code == 201 and replay.json == ok.json
    bad = client.post(f"/orders/{ref}/updates", data={"status": "nope"},
                      headers={"Accept": "application/json", "Idempotency-Key": "outbox-key-0002"})
    assert bad.status_code == 422 and "status" in bad.json["error"]["fields"]


def test_the_order_page_makes_the_same_number_of_queries_for_3_or_30_updates(app, world, client, auth):
    ref = make_order(app, world)
    auth.login("producer")
    for i in range(3):
        post_update(client, ref, "note", f"note {i}")
    auth.logout()
    auth.login("customer")
    few = count_queries(app, client, f"/orders/{ref}")
    auth.logout()
    auth.login("producer")
    for i in range(27):
        post_update(client, ref, "note", f"more {i}")
    auth.logout()
    auth.login("customer")
    assert count_queries(app, client, f"/orders/{ref}") == few
