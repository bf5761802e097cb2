"""API v1 for issues: list/filter, raise, read, comment, transition; idempotent writes."""
import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import Issue, IssueComment, User
from tests.factories import PASSWORD

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
pytestmark = pytest.mark.parametrize("app", [NO_CSRF], indirect=True)


def login(client, name):
    client.post("/login", data={"login": name, "password": PASSWORD})


def test_a_customer_raises_an_issue_once_however_often_the_request_is_replayed(app, world, client):
    login(client, "customer")
    body = {"category": "quality", "severity": "high", "title": "Gạo bị ẩm", "description": "Ba bao"}
    headers = {"Idempotency-Key": "api-raise-000001"}
    first = client.post(f"/api/v1/orders/{world.issue_order}/issues", json=body, headers=headers)
    again = client.post(f"/api/v1/orders/{world.issue_order}/issues", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert first.headers["Location"] == f"/api/v1/issues/{first.get_json()['id']}"
    assert first.get_json()["state"] == "open" and first.get_json()["events"][0]["action"] == "open"
    other = client.post(f"/api/v1/orders/{world.issue_order}/issues", json={**body, "title": "x"},
                        headers=headers)
    assert other.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Issue)) == 2


def test_the_list_filters_and_pages(app, world, client):
    login(client, "producer")
    client.post(f"/api/v1/orders/{world.issue_order}/issues",
                json={"category": "payment", "severity": "low", "title": "Invoice"})
    everything = client.get("/api/v1/issues").get_json()
    assert everything["total"] == 2
    only = client.get("/api/v1/issues?category=payment").get_json()
    assert [i["title"] for i in only["items"]] == ["Invoice"]
    mine = client.get("/api/v1/issues?tab=mine").get_json()
    assert [i["title"] for i in mine["items"]] == ["Invoice"]
    page = client.get("/api/v1/issues?limit=1&offset=1").get_json()
    assert len(page["items"]) == 1 and page["total"] == 2
    assert client.get("/api/v1/issues?tab=nope").status_code == 422
    assert client.get("/api/v1/issues?limit=-1").status_code == 422
    assert client.get("/api/v1/issues?limit=" + "9" * 5000).status_code == 422


def test_a_long_issue_list_stops_counting_and_says_there_are_more(app, world, client, monkeypatch):
    from secgo import counting

    monkeypatch.setattr(counting, "COUNT_AHEAD", 2)  # 1,000 rows past the page in real life
    login(client, "producer")
    for title in ("Invoice", "Late truck", "Wet bags"):
        client.post(f"/api/v1/orders/{world.issue_order}/issues",
                    json={"category": "payment", "severity": "low", "title": title})
    first = client.get("/api/v1/issues?limit=1").get_json()
    assert (first["total"], first["more"], len(first["items"])) == (2, True, 1)
    last = client.get("/api/v1/issues?limit=1&offset=3").get_json()
    assert (last["total"], last["more"], len(last["items"])) == (4, False, 1)
    page = client.get("/issues?tab=all").get_data(as_text=True)
    assert "Issues found: more than 2" in page


def test_comment_and_transitions_through_the_api(app, world, client):
    login(client, "producer")
    url = f"/api/v1/issues/{world.issue}"
    r = client.post(f"{url}/comments", json={"body": "ກຳລັງກວດ"}, headers={"Idempotency-Key": "api-c-00001"})
    assert r.status_code == 201
    r = client.post(f"{url}/comments", json={"body": "ກຳລັງກວດ"}, headers={"Idempotency-Key": "api-c-00001"})
    assert r.status_code == 201
    r = client.post(f"{url}/transitions", json={"action": "resolve", "note": "Sent 10 bags"})
    assert r.status_code == 201 and r.get_json()["issue"]["state"] == "resolved"
    r = client.post(f"{url}/transitions", json={"action": "close"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "transition_forbidden"
    client.post("/logout")
    login(client, "customer")
    detail = client.get(url).get_json()
    assert detail["allowed_actions"] == ["close", "reopen"]
    assert [e["action"] for e in detail["events"]] == ["open", "resolve"]
    assert detail["comments"][0]["body"] == "ກຳລັງກວດ" and detail["first_response_at"]
    r = client.post(f"{url}/transitions", json={"action": "close"})
    assert r.status_code == 201 and r.get_json()["issue"]["state"] == "closed"
    r = client.post(f"{url}/transitions", json={"action": "close"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "wrong_state"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IssueComment)) == 1


def test_hostile_or_malformed_requests_are_refused_without_a_write(app, world, client):
    login(client, "customer")
    url = f"/api/v1/issues/{world.issue}"
    assert client.post(f"{url}/comments", data="not json", content_type="text/plain").status_code == 415
    assert client.post(f"{url}/comments", data="[1,", content_type="application/json").status_code == 400
    assert client.post(f"{url}/comments", json=["a list"]).status_code == 400
    assert client.post(f"{url}/comments", json={"body": 5}).status_code == 422
    assert client.post(f"{url}/comments", json={"body": "x" * 4001}).status_code == 422
    assert client.post(f"{url}/transitions", json={"action": "explode"}).status_code == 422
    bad = client.post(f"{url}/comments", json={"body": "hi"}, headers={"Idempotency-Key": "bad key!"})
    assert bad.status_code == 400
    r = client.post(f"/api/v1/orders/{world.issue_order}/issues",
                    json={"category": ["x"], "severity": None, "title": "t" * 141})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"category", "severity", "title"}
    r = client.post(f"/api/v1/orders/{world.issue_order}/issues",
                    json={"category": "delay", "severity": "low", "title": "t", "photo_ids": "1"})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"photo_ids"}
    assert client.get("/api/v1/issues/99999999999").status_code == 404
    assert client.post("/api/v1/orders/NOPE/issues", json={}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Issue)) == 1
        assert db.session.scalar(select(func.count()).select_from(IssueComment)) == 0


def test_others_get_not_found_and_strangers_401(app, world, client):
    assert client.get("/api/v1/issues").status_code == 401
    login(client, "other_producer")
    assert client.get(f"/api/v1/issues/{world.issue}").status_code == 404
    assert client.get("/api/v1/issues").get_json()["total"] == 0


def test_the_openapi_document_describes_every_issue_operation(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/issues"] and "get" in paths["/issues/{issue_id}"]
    for path in ("/orders/{reference}/issues", "/issues/{issue_id}/comments", "/issues/{issue_id}/transitions"):
        names = [p["name"] for p in paths[path]["post"]["parameters"]]
        assert "Idempotency-Key" in names


def test_the_list_costs_the_same_queries_for_one_issue_or_thirty(app, world, client):
    from sqlalchemy import event

    login(client, "producer")

    def queries():
        with app.app_context():
            engine = db.engine
        seen = []
        listener = lambda *a: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/api/v1/issues").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    one = queries()
    for n in range(30):
        client.post(f"/api/v1/orders/{world.issue_order}/issues",
                    json={"category": "other", "severity": "low", "title": f"n{n}"})
    assert queries() == one


def test_an_issue_page_and_its_api_read_a_long_conversation_in_as_many_statements_as_a_short_one(
        app, world, client):
    """Each comment's author and photos, each event's person: read together, not one by one
    (the issue page after a comment was the dearest page to make)."""
    from secgo.attachments.services import save_photo
    from secgo.issues import services
    from tests.factories import jpeg_bytes
    from tests.test_orders import count_queries

    login(client, "producer")

    def statements(url):
        return count_queries(app, client, url)

    def comment(name, n):
        with app.app_context():
            person = db.session.scalar(select(User).where(User.username == name))
            issue = db.session.get(Issue, world.issue)
            services.add_comment(issue, person, f"Message {n}", photos=[save_photo(person, jpeg_bytes())])
            db.session.commit()

    page, api = f"/issues/{world.issue}", f"/api/v1/issues/{world.issue}"
    comment("customer", 0)
    short = statements(page), statements(api)
    for n in range(1, 7):
        comment(("producer", "customer", "coordinator")[n % 3], n)
    assert (statements(page), statements(api)) == short
    html = client.get(page).get_data(as_text=True)
    assert all(f"Message {n}" in html for n in range(7))
    body = client.get(api).get_json()
    assert [len(c["photo_ids"]) for c in body["comments"]] == [1] * 7
