"""Issues: raising, the state machine for every role, comments, the list and its filters."""
import io
from datetime import timedelta
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.issues import services
from secgo.models import Issue, IssueComment, IssueEvent, Notification, User
from tests.issue_factories import T0, make_order, raise_as

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
JSON = {"Accept": "application/json"}
STATES = ("open", "acknowledged", "resolved", "closed", "reopened")
ROLES = ("producer", "customer", "coordinator", "admin", "other_producer", "other_coordinator")
NOT_CLOSED = {"open", "acknowledged", "resolved", "reopened"}
UNRESOLVED = {"open", "acknowledged", "reopened"}
WAITING = {"open", "reopened"}
TARGET = {"acknowledge": "acknowledged", "resolve": "resolved", "close": "closed",
          "reopen": "reopened", "reassign": None}

# Written out by hand from the issue text: who may do what, from which states, for an issue
# raised by `raiser`. "reporter" and "counterpart" are filled in per raiser below.
SPEC = {
    "acknowledge": {"counterpart": WAITING, "coordinator": WAITING, "admin": WAITING},
    "resolve": {"producer": UNRESOLVED, "coordinator": UNRESOLVED, "admin": UNRESOLVED},
    "close": {"reporter": {"resolved"}, "coordinator": NOT_CLOSED, "admin": NOT_CLOSED},
    "reopen": {"reporter": {"resolved"}},
    "reassign": {"coordinator": NOT_CLOSED, "admin": NOT_CLOSED},
}


def expected(raiser, action, role, state):
    """201, 403, 404 or 409 for this case, from SPEC."""
    if role.startswith("other_"):
        return 404
    other = {"customer": "producer", "producer": "customer"}[raiser]
    names = {role} | ({"reporter"} if role == raiser else set()) | ({"counterpart"} if role == other else set())
    sources = set().union(*(states for who, states in SPEC[action].items() if who in names))
    if not any(who in names for who in SPEC[action]):
        return 403
    return 201 if state in sources else 409


def user(name):
    return db.session.scalar(select(User).where(User.username == name))


def issue_in_state(app, world, raiser, state):
    """A fresh issue on the world's order, raised by `raiser`, brought to `state` by the admin."""
    with app.app_context():
        order = db.session.scalar(select(Issue).where(Issue.id == world.issue)).order
        issue = raise_as(raiser, order, title=f"{raiser} {state}")
        admin, reporter = user("admin"), user(raiser)
        if state in ("acknowledged",):
            services.transition(issue, admin, "acknowledge")
        if state in ("resolved", "reopened", "closed"):
            services.transition(issue, admin, "resolve", note="Sent the missing bags")
        if state == "reopened":
            services.transition(issue, reporter, "reopen", note="Still two bags short")
        if state == "closed":
            services.transition(issue, reporter, "close")
        db.session.commit()
        assert issue.state == state
        return issue.id


def login(client, name):
    from tests.factories import PASSWORD

    response = client.post("/login", data={"login": name, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
@pytest.mark.parametrize("raiser", ("customer", "producer"))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", tuple(SPEC))
def test_every_transition_for_every_role_is_allowed_or_refused_as_specified(app, world, client, raiser, role, action):
    login(client, role)
    failures = []
    for state in STATES:
        issue_id = issue_in_state(app, world, raiser, state)
        with app.app_context():
            events_before = db.session.scalar(select(func.count()).where(IssueEvent.issue_id == issue_id))
            assignee = user("producer").id
        body = {"action": action, "note": "Checked and fixed", "assignee_id": assignee}
        response = client.post(f"/api/v1/issues/{issue_id}/transitions", json=body)
        want = expected(raiser, action, role, state)
        if response.status_code != want:
            failures.append(f"{action} from {state}: {response.status_code} != {want}")
            continue
        with app.app_context():
            issue = db.session.get(Issue, issue_id)
            events = db.session.scalars(select(IssueEvent).where(IssueEvent.issue_id == issue_id)
                                        .order_by(IssueEvent.id)).all()
            if want == 201:
                assert issue.state == (TARGET[action] or state)
                assert len(events) == events_before + 1
                assert events[-1].actor.username == role and events[-1].created_at is not None
                assert (events[-1].from_state, events[-1].action) == (state, action)
            else:
                assert issue.state == state and len(events) == events_before
                if want in (403, 409):
                    message = response.get_json()["error"]["message"]
                    assert message and "conflicts" not in message  # our own clear words
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_resolving_needs_a_note_and_reopening_needs_a_reason(app, world, client):
    login(client, "producer")
    r = client.post(f"/api/v1/issues/{world.issue}/transitions", json={"action": "resolve"})
    assert r.status_code == 422 and "note" in r.get_json()["error"]["fields"]
    r = client.post(f"/api/v1/issues/{world.issue}/transitions",
                    json={"action": "resolve", "note": "Sent ten more bags"})
    assert r.status_code == 201 and r.get_json()["issue"]["state"] == "resolved"
    client.post("/logout")
    login(client, "customer")
    r = client.post(f"/api/v1/issues/{world.issue}/transitions", json={"action": "reopen", "note": "  "})
    assert r.status_code == 422 and "note" in r.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.get(Issue, world.issue).state == "resolved"


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_an_illegal_button_press_shows_the_reason_on_the_page(app, world, client):
    login(client, "customer")
    r = client.post(f"/issues/{world.issue}/transitions", data={"action": "acknowledge"})
    assert r.status_code == 403
    assert "You may not do this to this issue." in r.get_data(as_text=True)
    r = client.post(f"/issues/{world.issue}/transitions", data={"action": "reopen", "note": "x"})
    assert r.status_code == 409
    assert "This issue is Open now" in r.get_data(as_text=True)


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_issue_page_offers_only_the_buttons_this_person_may_press(app, world, client):
    login(client, "customer")
    html = client.get(f"/issues/{world.issue}").get_data(as_text=True)
    assert 'value="acknowledge"' not in html and 'value="close"' not in html
    client.post("/logout")
    login(client, "producer")
    html = client.get(f"/issues/{world.issue}").get_data(as_text=True)
    assert re.findall(r'name="action" value="(\w+)"', html) == ["acknowledge", "resolve"]
    client.post("/logout")
    login(client, "coordinator")
    html = client.get(f"/issues/{world.issue}").get_data(as_text=True)
    assert re.findall(r'name="action" value="(\w+)"', html) == ["acknowledge", "resolve", "close", "reassign"]
    assert "data-outbox" in html and 'name="client_id"' in html


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_form_post_redirects_and_the_outbox_gets_json_and_a_replay_changes_nothing(app, world, client):
    login(client, "producer")
    r = client.post(f"/issues/{world.issue}/transitions",
                    data={"action": "acknowledge", "client_id": "replay-key-0001"})
    assert r.status_code == 303 and r.headers["Location"] == f"/issues/{world.issue}"
    r2 = client.post(f"/issues/{world.issue}/transitions",
                     data={"action": "acknowledge", "client_id": "replay-key-0001"}, headers=JSON)
    assert r2.status_code == 201 and r2.get_json()["state"] == "acknowledged"
    r3 = client.post(f"/issues/{world.issue}/comments",
                     data={"body": "Loading the bags now", "client_id": "replay-key-0002"}, headers=JSON)
    r4 = client.post(f"/issues/{world.issue}/comments",
                     data={"body": "Loading the bags now", "client_id": "replay-key-0002"}, headers=JSON)
    assert r3.status_code == r4.status_code == 201 and r3.get_json() == r4.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IssueComment)) == 1
        assert db.session.scalar(select(func.count()).where(IssueEvent.action == "acknowledge")) == 1


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_first_answer_from_the_other_side_starts_the_response_clock_and_notifies(app, world, client):
    login(client, "customer")
    client.post(f"/issues/{world.issue}/comments", data={"body": "Any news?"})
    with app.app_context():
        assert db.session.get(Issue, world.issue).first_response_at is None
    client.post("/logout")
    login(client, "producer")
    client.post(f"/issues/{world.issue}/comments", data={"body": "ຈະສົ່ງມື້ອື່ນ"})
    with app.app_context():
        issue = db.session.get(Issue, world.issue)
        assert issue.first_response_at is not None
        told = db.session.scalars(select(Notification).where(Notification.event == "issue_comment")).all()
        recipients = {n.user_id for n in told}
        assert world.users["customer"] in recipients and world.users["coordinator"] in recipients
        assert world.users["other_producer"] not in recipients


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_transition_notifies_everyone_on_the_order_but_the_actor(app, world):
    with app.app_context():
        issue = db.session.get(Issue, world.issue)
        services.transition(issue, user("producer"), "acknowledge", now=T0)
        db.session.commit()
        rows = db.session.scalars(select(Notification).where(Notification.event == "issue_transition")).all()
        assert {r.user_id for r in rows} == {world.users["customer"], world.users["coordinator"]}
        assert rows[0].url == f"/issues/{world.issue}" and rows[0].params["state"] == "acknowledged"
        assert issue.first_response_at == T0 and issue.acknowledged_at == T0


def _png():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_customer_raises_an_issue_from_the_order_with_a_photo(app, world, client):
    login(client, "customer")
    form = client.get(f"/orders/{world.issue_order}/issues/new?category=quality").get_data(as_text=True)
    assert re.search(r'<option selected value="quality"', form) and "data-outbox" in form
    r = client.post(
        f"/orders/{world.issue_order}/issues/new",
        data={"category": "quality", "severity": "medium", "title": "ข้าวมีมอด",
              "description": "พบมอดในกระสอบ 3 ใบ", "client_id": "raise-key-001",
              "photos": (io.BytesIO(_png()), "bugs.png")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    with app.app_context():
        issue = db.session.scalar(select(Issue).where(Issue.title == "ข้าวมีมอด"))
        assert issue.raised_by_side == "customer" and len(issue.photos) == 1
        assert issue.events[0].to_state == "open"
        photo_id, issue_id = issue.photos[0].id, issue.id
        assert db.session.scalar(select(func.count()).where(
            Notification.event == "issue_opened", Notification.issue_id == issue.id,
            Notification.user_id == world.users["producer"])) == 1
    html = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert f'src="/attachments/{photo_id}/thumb"' in html
    client.post("/logout")
    login(client, "producer")
    assert client.get(f"/attachments/{photo_id}/thumb").status_code == 200


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_bad_issue_form_is_refused_field_by_field_and_nothing_is_saved(app, world, client):
    login(client, "customer")
    r = client.post(f"/orders/{world.issue_order}/issues/new",
                    data={"category": "weather", "severity": "extreme", "title": "x" * 141})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Choose what kind of problem it is." in html and "At most 140 characters." in html
    r = client.post(f"/orders/{world.issue_order}/issues/new", headers=JSON,
                    data={"category": "delay", "severity": "low", "title": ""})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"title"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Issue)) == 1


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_someone_outside_the_order_gets_not_found(app, world, client):
    login(client, "other_producer")
    assert client.get(f"/issues/{world.issue}").status_code == 404
    assert client.get("/issues/99999999999").status_code == 404
    assert client.get(f"/orders/{world.issue_order}/issues/new").status_code == 404
    assert client.post(f"/issues/{world.issue}/comments", data={"body": "hi"}).status_code == 404


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_issue_list_has_tabs_filters_and_ages(app, world, client):
    with app.app_context():
        order = make_order(world.orgs["farm"], world.orgs["buyer"], border="bavet_moc_bai")
        raise_as("producer", order, title="Payment late", category="payment", severity="low")
        db.session.commit()
    login(client, "producer")
    waiting = client.get("/issues").get_data(as_text=True)
    assert "Ten bags short" in waiting and "Payment late" in waiting  # producer owns the fixing
    mine = client.get("/issues?tab=mine").get_data(as_text=True)
    assert "Payment late" in mine and "Ten bags short" not in mine
    only = client.get("/issues?tab=all&border=bavet_moc_bai").get_data(as_text=True)
    assert "Payment late" in only and "Ten bags short" not in only
    high = client.get("/issues?tab=all&severity=high&category=quantity").get_data(as_text=True)
    assert "Ten bags short" in high and "Payment late" not in high
    assert "Age:" in high and "No answer yet" in high
    client.post("/logout")
    login(client, "customer")
    waiting = client.get("/issues").get_data(as_text=True)
    # The customer must acknowledge the producer's issue; their own open one waits on the producer.
    assert "Payment late" in waiting and "Ten bags short" not in waiting
    by_cluster = client.get(f"/issues?tab=all&cluster={world.clusters['silk']}").get_data(as_text=True)
    assert "No issues match." in by_cluster
    assert client.get("/issues?tab=all&country=KH").status_code == 200
    assert client.get("/issues?tab=bogus&state=<script>&page=x").status_code == 200


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_the_issue_list_shows_twenty_at_a_time_and_the_older_ones_on_the_next_page(app, world, client):
    with app.app_context():
        order = make_order(world.orgs["farm"], world.orgs["buyer"])
        for n in range(20):  # with the world's own issue: 21
            raise_as("producer", order, title=f"Crate {n:02d} damaged", now=T0 + timedelta(minutes=n))
        db.session.commit()
    login(client, "coordinator")
    first = client.get("/issues?tab=all").get_data(as_text=True)
    assert first.count('class="card issue-item"') == 20
    assert "Crate 19 damaged" in first and "Page 1 of 2" in first and "page=2" in first
    second = client.get("/issues?tab=all&page=2").get_data(as_text=True)
    assert second.count('class="card issue-item"') == 1 and "Crate 19 damaged" not in second


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_a_coordinator_reassigns_to_someone_on_the_order_only(app, world, client):
    login(client, "coordinator")
    r = client.post(f"/api/v1/issues/{world.issue}/transitions",
                    json={"action": "reassign", "assignee_id": world.users["other_producer"]})
    assert r.status_code == 422
    r = client.post(f"/api/v1/issues/{world.issue}/transitions",
                    json={"action": "reassign", "assignee_id": world.users["producer"]})
    assert r.status_code == 201 and r.get_json()["issue"]["assignee_id"] == world.users["producer"]
    html = client.get(f"/issues/{world.issue}").get_data(as_text=True)
    assert "Reassigned" in html and "Assigned to" in html
