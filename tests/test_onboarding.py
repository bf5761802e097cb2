"""Onboarding by coordinators: organizations in their clusters, invites by one-time link + QR."""
import re

import pytest
from sqlalchemy import func, select

from secgo.extensions import db
from secgo.models import Invite, Organization, User
from tests.factories import PASSWORD
from tests.issue_factories import make_order

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
pytestmark = pytest.mark.parametrize("app", [NO_CSRF], indirect=True)


def login(client, name):
    client.post("/login", data={"login": name, "password": PASSWORD})


def invite(client, **fields):
    data = {"display_name": "Sokha", "username": "sokha", "role": "producer", "organization": "0",
            "locale": "km", "timezone": "Asia/Phnom_Penh", **fields}
    return client.post("/onboarding/people/new", data=data)


def test_a_coordinator_adds_a_producer_to_their_cluster_once_even_if_the_form_is_sent_twice(app, world, client):
    login(client, "coordinator")
    form = client.get("/onboarding/organizations/new").get_data(as_text=True)
    assert "data-outbox" in form and 'name="client_id"' in form
    assert "Takeo organic rice" in form and "Vientiane silk" not in form
    data = {"kind": "producer", "name": "សហគមន៍ស្រូវតាកែវ", "country": "KH", "province": "Takeo",
            "cluster": str(world.clusters["rice"]), "client_id": "org-form-0001"}
    first = client.post("/onboarding/organizations/new", data=data)
    again = client.post("/onboarding/organizations/new", data=data, headers={"Accept": "application/json"})
    assert first.status_code == 303 and again.status_code == 201
    with app.app_context():
        orgs = db.session.scalars(select(Organization).where(Organization.name == "សហគមន៍ស្រូវតាកែវ")).all()
        assert len(orgs) == 1 and orgs[0].cluster_id == world.clusters["rice"]


def test_a_coordinator_cannot_add_a_producer_to_another_cluster(app, world, client):
    login(client, "coordinator")
    r = client.post("/onboarding/organizations/new", data={
        "kind": "producer", "name": "Sneaky", "country": "LA", "cluster": str(world.clusters["silk"])})
    assert r.status_code == 422 and "Choose one of your clusters." in r.get_data(as_text=True)
    r = client.post("/onboarding/organizations/new", headers={"Accept": "application/json"}, data={
        "kind": "producer", "name": "Sneaky", "country": "LA", "cluster": str(world.clusters["silk"])})
    assert r.status_code == 422 and "cluster" in r.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Organization.name == "Sneaky")) == 0


def test_an_invite_gives_a_one_time_link_and_qr_code_that_sets_a_password(app, world, client):
    login(client, "coordinator")
    r = invite(client, organization=str(world.orgs["farm"]))
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    html = r.get_data(as_text=True)
    assert "<svg" in html and "style=" not in html.split("<main", 1)[1]
    link = re.search(r'value="(http[^"]+/invite/[^"]+)"', html).group(1)
    path = link.split("://", 1)[1].split("/", 1)[1]
    client.post("/logout")
    other = app.test_client()
    assert other.get("/" + path).status_code == 200
    with app.app_context():
        sokha = db.session.scalar(select(User).where(User.username == "sokha"))
        assert sokha.organization_id == world.orgs["farm"] and sokha.locale == "km"
        assert sokha.password_hash is None
        assert db.session.scalar(select(func.count()).where(Invite.user_id == sokha.id)) == 1


def test_a_coordinator_invites_only_producers_and_customers_into_organizations_they_manage(app, world, client):
    login(client, "coordinator")
    page = client.get("/onboarding/people/new").get_data(as_text=True)
    assert "Lao Silk Weavers" not in page and "Takeo Rice Coop" in page
    assert 'value="coordinator"' not in page and 'value="admin"' not in page
    assert invite(client, role="admin").status_code == 422
    assert invite(client, organization=str(world.orgs["weaver"])).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(User.username == "sokha")) == 0


def test_customers_of_other_clusters_stay_out_of_a_coordinators_reach(app, world, client):
    with app.app_context():
        # Saigon Buyer buys only from the silk cluster; Bangkok Buyer buys from rice (world order).
        make_order(world.orgs["weaver"], world.orgs["other_buyer"])
        db.session.commit()
    login(client, "coordinator")
    page = client.get("/onboarding/").get_data(as_text=True)
    assert "Bangkok Buyer" in page and "Saigon Buyer" not in page
    assert client.post(f"/onboarding/people/{world.users['other_customer']}/reset").status_code == 404
    assert client.post(f"/onboarding/people/{world.users['customer']}/reset").status_code == 201
    assert client.post(f"/onboarding/people/{world.users['other_producer']}/reset").status_code == 404
    assert client.post(f"/onboarding/people/{world.users['coordinator']}/reset").status_code == 404


def test_a_new_customer_organization_can_be_onboarded_by_any_coordinator(app, world, client):
    login(client, "coordinator")
    r = client.post("/onboarding/organizations/new",
                    data={"kind": "customer", "name": "Hanoi Traders", "country": "VN", "cluster": "0"})
    assert r.status_code == 303
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.name == "Hanoi Traders"))
    r = invite(client, role="customer", organization=str(org.id), username="lan")
    assert r.status_code == 201


def test_an_admin_chooses_which_clusters_a_new_coordinator_coordinates(app, world, client):
    login(client, "admin")
    page = client.get("/onboarding/people/new").get_data(as_text=True)
    assert "Clusters they coordinate" in page
    r = invite(client, role="coordinator", username="newcoord")
    assert r.status_code == 422 and "Choose at least one cluster." in r.get_data(as_text=True)
    r = invite(client, role="coordinator", username="newcoord", clusters=str(world.clusters["silk"]))
    assert r.status_code == 201
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "newcoord"))
        assert [c.id for c in user.clusters] == [world.clusters["silk"]]


def test_people_outside_coordination_cannot_onboard(app, world, client):
    login(client, "producer")
    assert client.get("/onboarding/").status_code == 403
    assert client.post("/onboarding/organizations/new", data={"kind": "customer", "name": "X",
                                                              "country": "TH"}).status_code == 403
