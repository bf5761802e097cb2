"""The issue page: the conversation first, only the actions that make sense now with the likely
next one in view, "Assign" when nobody is, and closing an unresolved issue asks first."""
import re

import pytest
from sqlalchemy import select

from secgo.extensions import db
from secgo.issues import services
from secgo.models import Issue, User

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
pytestmark = pytest.mark.parametrize("app", [NO_CSRF], indirect=True)


def html_of(client, issue_id):
    response = client.get(f"/issues/{issue_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def forms(html):
    """(action, in the "Other actions" disclosure?, is the primary button) for each action form."""
    main, _sep, rest = html.partition('<details class="more-actions"')
    found = []
    for part, hidden in ((main, False), (rest, True)):
        for action, button in re.findall(
                r'name="action" value="(\w+)">.*?<button class="([^"]*)"', part, flags=re.S):
            found.append((action, hidden, "primary" in button))
    return found


def state(app, issue_id):
    with app.app_context():
        return db.session.get(Issue, issue_id).state


def test_the_coordinator_sees_the_conversation_first_and_acknowledge_in_view(app, world, client, auth):
    auth.login("coordinator")
    html = html_of(client, world.issue)
    assert html.index("History and messages") < html.index("What next?") < html.index("Write a message")
    assert forms(html) == [("acknowledge", False, True), ("resolve", True, False),
                           ("close", True, False), ("reassign", True, False)]
    assert ">Assign</button>" in html and "Reassign" not in html  # nobody is assigned yet
    assert 'name="confirm" value="1" required' in html


def test_reassign_once_someone_is_assigned(app, world, client, auth):
    with app.app_context():
        issue = db.session.get(Issue, world.issue)
        coordinator = db.session.scalar(select(User).where(User.username == "coordinator"))
        producer = db.session.scalar(select(User).where(User.username == "producer"))
        services.transition(issue, coordinator, "reassign", assignee_id=producer.id)
        db.session.commit()
    auth.login("coordinator")
    assert ">Reassign</button>" in html_of(client, world.issue)


def test_closing_an_unresolved_issue_needs_the_confirmation(app, world, client, auth):
    auth.login("coordinator")
    refused = client.post(f"/issues/{world.issue}/transitions", data={"action": "close"})
    assert refused.status_code == 422
    assert "Tick the box to confirm" in refused.get_data(as_text=True)
    assert state(app, world.issue) == "open"
    for bad in ("0", "yes", "\u0661"):
        assert client.post(f"/issues/{world.issue}/transitions",
                           data={"action": "close", "confirm": bad}).status_code == 422
    json = client.post(f"/issues/{world.issue}/transitions", data={"action": "close"},
                       headers={"Accept": "application/json", "Idempotency-Key": "close-no-confirm-1"})
    assert json.status_code == 422 and "confirm" in json.json["error"]["fields"]
    assert state(app, world.issue) == "open"
    done = client.post(f"/issues/{world.issue}/transitions", data={"action": "close", "confirm": "1"})
    assert done.status_code == 303 and state(app, world.issue) == "closed"


def test_the_reporter_of_a_resolved_issue_sees_close_first_without_a_checkbox(app, world, client, auth):
    with app.app_context():
        issue = db.session.get(Issue, world.issue)
        producer = db.session.scalar(select(User).where(User.username == "producer"))
        services.transition(issue, producer, "resolve", note="Sent the ten bags")
        db.session.commit()
    auth.login("customer")
    html = html_of(client, world.issue)
    assert forms(html) == [("close", False, True), ("reopen", True, False)]
    assert 'name="confirm"' not in html
    assert client.post(f"/issues/{world.issue}/transitions", data={"action": "close"}).status_code == 303
    assert state(app, world.issue) == "closed"


def test_the_reporter_of_an_open_issue_gets_only_the_reply_box(app, world, client, auth):
    auth.login("customer")
    html = html_of(client, world.issue)
    assert forms(html) == [] and "What next?" not in html
    assert 'class="btn primary wide">Send' in html


def test_the_api_closes_without_the_page_s_confirmation(app, world, client, auth):
    auth.login("coordinator")
    response = client.post(f"/api/v1/issues/{world.issue}/transitions", json={"action": "close"},
                           headers={"Idempotency-Key": "api-close-0001"})
    assert response.status_code == 201 and state(app, world.issue) == "closed"
