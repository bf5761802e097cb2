"""The audit trail: every account and permission event is kept with who, when and from
where; nobody can change it; admins read all of it and coordinators what concerns the
organizations they manage; old events are forgotten after the retention period."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from secgo.extensions import db
from secgo.models import AuditEvent, User, utcnow

from tests.factories import PASSWORD


def _events(app, action=None):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return db.session.scalars(query).all()


def _uid(app, username):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def test_a_login_a_logout_and_a_failed_login_are_kept_with_who_and_from_where(app, world, auth):
    auth.login("producer")
    auth.logout()
    auth.login("producer", password="not the password")
    producer = world.users["producer"]
    login, logout, failed = (_events(app, a)[-1] for a in ("login", "logout", "login_failed"))
    assert (login.actor_id, login.subject_id) == (producer, producer)
    assert logout.actor_id == producer
    assert failed.subject_id == producer and failed.actor_id is None
    assert failed.details == {"reason": "password"}
    assert all(e.remote_addr == "127.0.0.1" for e in (login, logout, failed))
    assert login.organization_id == world.orgs["farm"]


def test_a_failed_login_with_an_unknown_name_keeps_nothing_that_was_typed(app, world, auth):
    typed = "my-secret-password-typed-in-the-wrong-box"
    auth.login(typed, password="whatever")
    failed = _events(app, "login_failed")[-1]
    assert failed.subject_id is None and failed.details == {"reason": "unknown login"}
    with app.app_context():
        dump = str([tuple(r) for r in db.session.execute(text("SELECT * FROM audit_events"))])
    assert typed not in dump


def test_a_password_change_and_api_tokens_are_kept(app, world, auth, client):
    auth.login("customer")
    token = auth.csrf("/settings")
    client.post("/settings", data={"action": "token", "token-name": "ERP sync", "csrf_token": token})
    created = _events(app, "api_token_created")[-1]
    assert created.details["name"] == "ERP sync" and created.details["prefix"].startswith("sg_")
    with app.app_context():
        token_id = db.session.execute(text("SELECT id FROM api_tokens")).scalar()
    client.post("/settings", data={"action": "revoke", "token_id": str(token_id), "csrf_token": token})
    assert _events(app, "api_token_revoked")[-1].details["name"] == "ERP sync"
    client.post("/settings", data={"action": "password", "pw-current": PASSWORD, "pw-password": "a new long passphrase",
                                   "pw-confirm": "a new long passphrase", "csrf_token": token})
    changed = _events(app, "password_changed")[-1]
    assert changed.subject_id == world.users["customer"] == changed.actor_id


def test_an_invite_link_and_its_use_are_kept(app, world, auth, client):
    auth.login("coordinator")
    token = auth.csrf("/onboarding/")
    answer = client.post(f"/onboarding/people/{world.users['producer']}/reset", data={"csrf_token": token})
    assert answer.status_code in (200, 201)
    issued = _events(app, "reset_issued")[-1]
    assert issued.actor_id == world.users["coordinator"] and issued.subject_id == world.users["producer"]


def test_nobody_can_change_a_recorded_event(app, world, auth):
    auth.login("producer")
    with app.app_context():
        event = db.session.scalars(select(AuditEvent)).first()
        event.action = "logout"
        with pytest.raises(ValueError, match="append-only"):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("UPDATE audit_events SET action = 'logout'"))
        db.session.rollback()


def _page(client, **args):
    return client.get("/audit/", query_string=args)


def test_admins_read_every_event_and_coordinators_only_their_organizations(app, world, auth, client):
    for name in ("producer", "other_producer"):
        auth.login(name)
        auth.logout()
    auth.login("admin")
    page = _page(client, action="login").get_data(as_text=True)
    assert "Producer" in page and "Other_Producer" in page
    auth.logout()
    auth.login("coordinator")  # rice: the farm's producer, not silk's weaver
    page = _page(client, action="login").get_data(as_text=True)
    assert "Takeo Rice Coop" in page and "Lao Silk Weavers" not in page and "Other_Producer" not in page
    auth.logout()
    auth.login("producer")
    assert _page(client).status_code == 403


def test_the_audit_page_filters_by_person_event_and_day(app, world, auth, client):
    auth.login("producer")
    auth.logout()
    auth.login("admin")
    only = _page(client, person="producer", action="logout").get_data(as_text=True)
    assert only.count('<li class="card">') == 1
    today = utcnow().date()
    assert _page(client, since=(today + timedelta(days=2)).isoformat()).get_data(as_text=True).count('<li class="card">') == 0


@pytest.mark.parametrize("args, field", [
    ({"since": "28/11/2026"}, "since"), ({"until": "2026-13-40"}, "until"),
    ({"action": "<script>alert(1)</script>"}, "action"), ({"person": "nobody-at-all"}, "person"),
])
def test_bad_filters_get_a_clear_localised_message_and_list_nothing(app, world, auth, client, args, field):
    auth.login("admin")
    client.post("/language", data={"lang": "th", "csrf_token": auth.csrf("/offline")})
    answer = _page(client, **args)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert f'id="e-{field}"' in body and "<script>alert" not in body
    assert '<li class="card">' not in body


def test_events_older_than_the_retention_period_are_forgotten(app, world, runner):
    with app.app_context():
        old = utcnow() - timedelta(days=app.config["AUDIT_RETENTION_DAYS"] + 1)
        db.session.add_all([AuditEvent(action="login", created_at=old, details={}),
                            AuditEvent(action="login", details={})])
        db.session.commit()
    result = runner.invoke(args=["audit-prune"])
    assert result.exit_code == 0 and "Forgot 1 " in result.output
    assert len(_events(app)) == 1


def test_deactivations_role_changes_and_cluster_coordinators_are_kept(app, world, runner):
    from secgo.admin import services as admin

    assert runner.invoke(args=["user", "deactivate", "other_customer"]).exit_code == 0
    assert runner.invoke(args=["user", "reactivate", "other_customer"]).exit_code == 0
    with app.test_request_context():
        person = db.session.get(User, world.users["other_customer"])
        admin.update_person(admin.SHELL, person, {
            "display_name": person.display_name, "role": "customer", "locale": "th",
            "timezone": person.timezone, "organization": str(world.orgs["buyer"])})
        db.session.commit()
    subject = world.users["other_customer"]
    assert [e.subject_id for e in _events(app, "person_deactivated")] == [subject]
    assert [e.subject_id for e in _events(app, "person_reactivated")] == [subject]
    moved = _events(app, "organization_changed")[-1]
    assert moved.subject_id == subject
    assert moved.details == {"from": world.orgs["other_buyer"], "to": world.orgs["buyer"]}


def test_tracking_links_and_csv_downloads_are_kept(app, world, auth, client):
    auth.login("producer")
    token = auth.csrf("/orders/SEC-WRLD01/links")
    made = client.post("/orders/SEC-WRLD01/links", data={"contact_name": "Warehouse clerk", "days": "3",
                                                       "csrf_token": token,
                                                       "client_id": "6a1f0c52-3c59-4c1e-9c9e-0e4d51a0b7c1"})
    assert made.status_code in (200, 201, 303)
    created = _events(app, "tracking_link_created")[-1]
    assert created.actor_id == world.users["producer"] and created.details["order"] == "SEC-WRLD01"
    client.post(f"/orders/SEC-WRLD01/links/{created.details['link']}/revoke",
                data={"csrf_token": token, "client_id": "7b2e1d63-4d6a-4d2f-8d0f-1f5e62b1c8d2"})
    assert _events(app, "tracking_link_revoked")[-1].details["link"] == created.details["link"]
    auth.logout()
    auth.login("coordinator")
    assert client.get("/coordinator/orders.csv").status_code == 200
    exported = _events(app, "data_exported")[-1]
    assert exported.actor_id == world.users["coordinator"] and exported.details["file"].endswith(".csv")
