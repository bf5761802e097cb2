"""A coordinator reaches only their own clusters' orders: directly, or through accounts they
invite or reset. A customer organization that also buys from another cluster needs an admin.

World: the coordinator coordinates the rice cluster (Takeo Rice Coop); "Bangkok Buyer" buys
from the rice cluster (the world order) and, in most tests here, also from the silk cluster.
"""
import re

import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import Cluster, Invite, Organization, User
from tests.factories import PASSWORD, make_user
from tests.issue_factories import make_order

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
pytestmark = pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
ASK_AN_ADMIN = "ask an administrator"


def login(client, name, password=PASSWORD):
    client.post("/login", data={"login": name, "password": password})


def invite(client, **fields):
    data = {"display_name": "Mallory", "username": "mallory", "role": "customer",
            "organization": "0", "locale": "en", "timezone": "Asia/Bangkok", **fields}
    return client.post("/onboarding/people/new", data=data)


def buyer_also_buys_from_silk(app, world):
    with app.app_context():
        order = make_order(world.orgs["weaver"], world.orgs["buyer"], product="Silk scarves")
        db.session.commit()
        return order.reference


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_coordinator_cannot_invite_into_a_customer_that_also_buys_from_another_cluster(app, world, client):
    buyer_also_buys_from_silk(app, world)
    login(client, "coordinator")
    r = invite(client, organization=str(world.orgs["buyer"]))
    assert r.status_code == 422 and ASK_AN_ADMIN in r.get_data(as_text=True)
    assert count(app, User, User.username == "mallory") == 0


def test_a_coordinator_cannot_make_a_reset_link_for_a_customer_that_also_buys_from_another_cluster(
        app, world, client):
    buyer_also_buys_from_silk(app, world)
    login(client, "coordinator")
    assert client.post(f"/onboarding/people/{world.users['customer']}/reset").status_code == 404
    assert count(app, Invite, Invite.user_id == world.users["customer"]) == 0


def test_an_account_a_coordinator_would_create_there_never_sees_the_other_clusters_orders(app, world, client):
    silk_order = buyer_also_buys_from_silk(app, world)
    login(client, "coordinator")
    assert invite(client, organization=str(world.orgs["buyer"])).status_code == 422
    assert client.post(f"/onboarding/people/{world.users['customer']}/reset").status_code == 404
    # Neither a new account nor a taken-over one: the coordinator still cannot open the order.
    assert client.get(f"/orders/{silk_order}").status_code == 404


def test_a_link_a_coordinator_made_dies_once_the_customer_buys_from_another_cluster(app, world, client):
    login(client, "coordinator")  # allowed now: Bangkok Buyer buys only from the rice cluster
    page = client.post(f"/onboarding/people/{world.users['customer']}/reset").get_data(as_text=True)
    link = re.search(r'value="https?://[^/"]+(/invite/[^"]+)"', page).group(1)
    assert app.test_client().get(link).status_code == 200
    buyer_also_buys_from_silk(app, world)
    stranger = app.test_client()
    assert stranger.get(link).status_code == 404
    r = stranger.post(link, data={"password": "a new long password", "confirm": "a new long password"})
    assert r.status_code == 404
    with app.app_context():
        assert db.session.get(User, world.users["customer"]).check_password(PASSWORD)


def test_the_people_page_says_ask_an_administrator_for_a_customer_shared_with_another_cluster(
        app, world, client):
    buyer_also_buys_from_silk(app, world)
    login(client, "coordinator")
    page = client.get("/onboarding/").get_data(as_text=True)
    card = page.split(f'id="org-{world.orgs["buyer"]}"', 1)[1].split("</section>", 1)[0]
    assert "Bangkok Buyer" in page and ASK_AN_ADMIN in card
    assert f"/onboarding/people/{world.users['customer']}/reset" not in page
    assert f"org={world.orgs['buyer']}" not in page
    form = client.get("/onboarding/people/new").get_data(as_text=True)
    assert f'value="{world.orgs["buyer"]}"' not in form and "Takeo Rice Coop" in form


def test_a_customer_that_buys_only_from_the_coordinators_clusters_stays_theirs_to_onboard(app, world, client):
    login(client, "coordinator")  # Bangkok Buyer buys only from the rice cluster here
    assert client.post(f"/onboarding/people/{world.users['customer']}/reset").status_code == 201
    assert invite(client, organization=str(world.orgs["buyer"])).status_code == 201
    assert ASK_AN_ADMIN not in client.get("/onboarding/").get_data(as_text=True)


def test_a_coordinator_of_every_cluster_the_customer_buys_from_may_onboard_it(app, world, client):
    buyer_also_buys_from_silk(app, world)
    with app.app_context():
        user = db.session.get(User, world.users["coordinator"])
        user.clusters = list(db.session.scalars(select(Cluster)))
        db.session.commit()
    login(client, "coordinator")
    assert client.post(f"/onboarding/people/{world.users['customer']}/reset").status_code == 201


def test_an_admin_onboards_people_of_a_customer_shared_between_clusters(app, world, client):
    buyer_also_buys_from_silk(app, world)
    login(client, "admin")
    assert client.post(f"/onboarding/people/{world.users['customer']}/reset").status_code == 201
    assert invite(client, organization=str(world.orgs["buyer"])).status_code == 201


def test_a_coordinator_cannot_invite_a_coordinator_or_an_admin(app, world, client):
    login(client, "coordinator")
    assert invite(client, role="coordinator", username="c2",
                  clusters=str(world.clusters["rice"])).status_code == 422
    assert invite(client, role="admin", username="a2").status_code == 422
    assert count(app, User, User.username.in_(["c2", "a2"])) == 0


def test_a_coordinator_cannot_put_a_person_into_another_clusters_producer(app, world, client):
    login(client, "coordinator")
    assert invite(client, role="producer", organization=str(world.orgs["weaver"])).status_code == 422
    assert count(app, User, User.username == "mallory") == 0


def test_a_coordinator_cannot_reset_a_coordinator_an_admin_or_another_clusters_producer(app, world, client):
    login(client, "coordinator")
    for name in ("other_coordinator", "admin", "coordinator", "other_producer"):
        assert client.post(f"/onboarding/people/{world.users[name]}/reset").status_code == 404
    assert count(app, Invite) == 0


def test_an_unknown_organization_number_in_an_invite_is_a_form_error(app, world, client):
    login(client, "coordinator")
    for value in ("999999", str(2**40)):
        assert invite(client, organization=value).status_code == 422
    assert count(app, User, User.username == "mallory") == 0


def test_demo_a_takeo_coordinator_cannot_take_over_bangkok_fresh_trading(app, client):
    """The reported case: Bangkok Fresh Trading buys from Takeo, Mandalay, Kampong Speu ..."""
    from secgo.demo import PASSWORD as DEMO_PASSWORD
    from secgo.demo import seed_demo

    with app.app_context():
        seed_demo()
        takeo = db.session.scalar(select(Cluster).where(Cluster.name == "Takeo organic rice"))
        make_user("takeo-coordinator", "coordinator", clusters=[takeo])
        db.session.commit()
        customer = db.session.scalar(select(User).where(User.username == "demo-customer"))
        fresh = db.session.scalar(select(Organization).where(Organization.name.like("Bangkok Fresh%")))
        customer_id, fresh_id = customer.id, fresh.id
    login(client, "takeo-coordinator")
    assert client.post(f"/onboarding/people/{customer_id}/reset").status_code == 404
    r = invite(client, organization=str(fresh_id))
    assert r.status_code == 422 and ASK_AN_ADMIN in r.get_data(as_text=True)
    assert count(app, Invite, Invite.user_id == customer_id) == 0
    # The demo's coordinator of every cluster still may.
    other = app.test_client()
    login(other, "demo-coordinator", DEMO_PASSWORD)
    assert other.post(f"/onboarding/people/{customer_id}/reset").status_code == 201
