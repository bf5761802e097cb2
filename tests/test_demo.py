"""The demo tells the truth: only what the app's rules allow, labelled and counted as the app
defines it (Issue.is_open, Issue.awaits_answer, the state table)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from secgo.authz import order_side
from secgo.demo import seed_demo
from secgo.extensions import db
from secgo.issues.services import EVENT_LABELS, TRANSITIONS, actor_roles
from secgo.models import (
    DeliveryConfirmation, Issue, IssueComment, IssueEvent, Notification, StatusUpdate, User, utcnow,
)

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
pytestmark = pytest.mark.parametrize("app", [NO_CSRF], indirect=True)


@pytest.fixture
def demo(app):
    with app.app_context():
        assert seed_demo() > 0
        assert seed_demo() == 0  # again: nothing new
    return app


def login(app, username):
    client = app.test_client()
    r = client.post("/login", data={"login": username, "password": "demo-password"})
    assert r.status_code == 302, username
    return client


def test_every_demo_record_is_one_the_app_would_allow(demo):
    with demo.app_context():
        for update in db.session.scalars(select(StatusUpdate)):
            assert order_side(update.author, update.order) in ("producer", "coordinator", "admin")
            if update.confirmed_by is not None:
                assert order_side(update.confirmed_by, update.order) in ("customer", "admin")
        for delivery in db.session.scalars(select(DeliveryConfirmation)):
            assert order_side(delivery.confirmed_by, delivery.order) in ("customer", "admin")
        for issue in db.session.scalars(select(Issue)):
            assert order_side(issue.raised_by, issue.order) == issue.raised_by_side
        for comment in db.session.scalars(select(IssueComment)):
            assert order_side(comment.author, comment.issue.order) is not None


def test_every_issue_event_is_a_transition_of_the_state_table_and_says_what_it_was(demo):
    with demo.app_context():
        events = db.session.scalars(select(IssueEvent).order_by(IssueEvent.id)).all()
        assert {e.action for e in events} >= {"open", "acknowledge", "resolve", "close"}
        for event in events:
            if event.action == "open":
                assert (event.from_state, event.to_state) == (None, "open")
                assert event.issue.events[0] is event
                continue
            roles = actor_roles(event.issue, event.actor)
            assert any(r.action == event.action and event.from_state in r.sources
                       and r.target == event.to_state and roles & r.who for r in TRANSITIONS), event.action
        acknowledged = next(e for e in events if e.action == "acknowledge")
        issue_id = acknowledged.issue_id
    page = login(demo, "demo-coordinator").get(f"/issues/{issue_id}").get_data(as_text=True)
    assert str(EVENT_LABELS["acknowledge"]) in page
    assert page.count(str(EVENT_LABELS["open"])) == 1  # the raising only


def test_an_issue_someone_answered_is_not_shown_as_unanswered(demo):
    with demo.app_context():
        for issue in db.session.scalars(select(Issue)):
            answers = [c.created_at for c in issue.comments if "reporter" not in actor_roles(issue, c.author)]
            answers += [e.created_at for e in issue.events
                        if e.action in ("acknowledge", "resolve") and "reporter" not in actor_roles(issue, e.actor)]
            assert issue.first_response_at == (min(answers) if answers else None), issue.title
        colour = db.session.scalar(select(Issue).where(Issue.title == "Colour differs from sample"))
        assert colour.is_open and not colour.awaits_answer
        waiting = db.session.scalars(select(Issue).where(Issue.awaits_answer)).all()
        assert [i.title for i in waiting] == ["Phytosanitary certificate missing"]
        colour_id = colour.id
    coordinator = login(demo, "demo-coordinator")
    assert "No answer yet" not in coordinator.get(f"/issues/{colour_id}").get_data(as_text=True)
    listing = coordinator.get("/issues?tab=all").get_data(as_text=True)
    assert listing.count("No answer yet") == 1


def test_the_dashboard_counts_open_issues_as_the_app_defines_them(demo):
    with demo.app_context():
        issues = db.session.scalars(select(Issue)).all()
        hours = demo.config["COORDINATOR_UNANSWERED_HOURS"]
        late = utcnow() - timedelta(hours=hours)
        expected = {
            "open": sum(i.is_open for i in issues),
            "resolved": sum(i.waits_for_close for i in issues),
            "unanswered": sum(i.awaits_answer and i.created_at < late for i in issues),
        }
        # The demo has every kind: open, acknowledged (open too), resolved, closed.
        assert {i.state for i in issues} >= {"open", "acknowledged", "resolved", "closed"}
        assert expected == {"open": 3, "resolved": 1, "unanswered": 0}
        open_titles = {i.title for i in issues if i.is_open}
        other_titles = {i.title for i in issues if not i.is_open}
    page = login(demo, "demo-coordinator").get("/coordinator").get_data(as_text=True)
    stats = dict((label.strip(), int(n)) for n, label in re.findall(
        r'<strong>(\d+)</strong><span>([^<]+)</span>', page))
    assert stats["Open issues"] == expected["open"]
    assert stats["Resolved, waiting to be closed"] == expected["resolved"]
    assert stats[f"No answer within {hours} hours"] == expected["unanswered"]
    urgent = page.split('id="urgent"', 1)[1].split("</section>", 1)[0]
    assert all(title in urgent for title in open_titles)
    assert not any(title in urgent for title in other_titles)


def test_every_demo_login_works_and_the_demo_leaves_no_pushes_behind(demo):
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
        usernames = db.session.scalars(select(User.username).where(User.username.like("demo-%"))).all()
    for username in usernames:
        assert login(demo, username).get("/orders").status_code == 200
