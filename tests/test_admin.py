"""Admin pages and commands: clusters (admins), organizations and people (admins, and
coordinators within their onboarding reach), deactivation that ends every sign-in at once."""
import pytest
from sqlalchemy import func, select

from secgo.auth.services import create_api_token
from secgo.extensions import db
from secgo.models import Cluster, Order, Organization, User, UserSession
from tests.factories import PASSWORD, make_user
from tests.issue_factories import make_order

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
pytestmark = pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
JSON = {"Accept": "application/json"}


def login(client, name):
    r = client.post("/login", data={"login": name, "password": PASSWORD})
    assert r.status_code == 302, name
    return client


def cluster_form(**fields):
    return {"name": "Bát Tràng ceramic", "country": "VN", "province": "Hà Nội",
            "product": "ceramic", **fields}


def person_form(person: User, **fields):
    data = {"display_name": person.display_name, "role": person.role,
            "organization": str(person.organization_id or 0), "locale": person.locale,
            "timezone": person.timezone, "email": person.email or "", "phone": person.phone or ""}
    data.update(fields)
    return data


def get(model, **where):
    return db.session.scalar(select(model).filter_by(**where))


# --- clusters ---------------------------------------------------------------------------------

def test_an_admin_creates_a_cluster_with_its_coordinator_once_even_if_sent_twice(app, world, client):
    login(client, "admin")
    form = client.get("/admin/clusters/new").get_data(as_text=True)
    assert 'name="client_id"' in form and 'maxlength="120"' in form
    data = cluster_form(coordinators=[str(world.users["coordinator"])], client_id="cluster-new-0001")
    first = client.post("/admin/clusters/new", data=data)
    again = client.post("/admin/clusters/new", data=data, headers=JSON)
    assert first.status_code == 303 and again.status_code == 201
    with app.app_context():
        clusters = db.session.scalars(select(Cluster).where(Cluster.name == "Bát Tràng ceramic")).all()
        assert len(clusters) == 1
        assert [u.username for u in clusters[0].coordinators] == ["coordinator"]
        cluster_id = clusters[0].id
    # Edited: a new coordinator replaces the first; the list finds it without the marks.
    r = client.post(f"/admin/clusters/{cluster_id}", data=cluster_form(
        product="glazed ceramic", coordinators=[str(world.users["other_coordinator"])]))
    assert r.status_code == 303
    page = client.get("/admin/clusters?q=bat+trang").get_data(as_text=True)
    assert "Bát Tràng ceramic" in page and "glazed ceramic" in page and "Other_Coordinator" in page
    assert "Vientiane silk" not in page


def test_a_cluster_with_a_bad_field_changes_nothing_and_says_why(app, world, client):
    login(client, "admin")
    rice = f"/admin/clusters/{world.clusters['rice']}"
    cases = [
        ({"name": "x" * 121}, "name", "At most 120 characters."),
        ({"name": ""}, "name", "Please fill this in."),
        ({"name": "Vientiane SILK"}, "name", "A cluster with this name already exists."),
        ({"country": "ZZ"}, "country", "Choose a country."),
        ({"province": "p" * 81}, "province", "At most 80 characters."),
        ({"coordinators": ["abc"]}, "coordinators", "Please choose one of the offered values."),
        ({"coordinators": ["99999999999999"]}, "coordinators", "Please choose one of the offered values."),
        # Someone who is not a coordinator cannot coordinate.
        ({"coordinators": [str(world.users["producer"])]}, "coordinators", "Choose coordinators from the list."),
    ]
    for fields, field, message in cases:
        r = client.post(rice, data=cluster_form(**fields))
        assert r.status_code == 422, fields
        assert message in r.get_data(as_text=True), fields
        # The outbox's post of the same form gets the same refusal as JSON.
        r = client.post(rice, data=cluster_form(**fields), headers=JSON)
        assert r.status_code == 422 and r.get_json()["error"]["fields"][field] == message
    # A JSON body is not what these forms take: refused, nothing read.
    r = client.post(rice, json={"name": 5, "country": "KH", "product": ["rice"]}, headers=JSON)
    assert r.status_code == 422
    assert client.post(rice, data=cluster_form(name="a\x00b")).status_code == 400
    with app.app_context():
        cluster = db.session.get(Cluster, world.clusters["rice"])
        assert (cluster.name, cluster.country, cluster.province) == ("Takeo organic rice", "KH", "Takeo")
        assert [u.username for u in cluster.coordinators] == ["coordinator"]


def test_a_script_in_a_name_is_stored_as_text_and_shown_as_text(app, world, client):
    login(client, "admin")
    r = client.post("/admin/clusters/new", data=cluster_form(name="<script>alert(1)</script>"))
    assert r.status_code == 303
    page = client.get("/admin/clusters").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_clusters_are_for_admins_only(app, world, client):
    login(client, "coordinator")
    assert client.get("/admin/clusters").status_code == 403
    assert client.post("/admin/clusters/new", data=cluster_form()).status_code == 403
    with app.app_context():
        assert get(Cluster, name="Bát Tràng ceramic") is None


# --- lists ------------------------------------------------------------------------------------

def test_lists_are_paged_and_found_by_name_in_every_script(app, world, client):
    with app.app_context():
        rice = db.session.get(Cluster, world.clusters["rice"])
        for i in range(30):
            db.session.add(Organization(kind="producer", name=f"Farm {i:02d}", country="KH", cluster=rice))
        db.session.add(Organization(kind="customer", name="บริษัท สยามเทรด จำกัด", country="TH"))
        db.session.add(Organization(kind="customer", name="Gốm Bát Tràng Minh Long", country="VN"))
        db.session.add(Organization(kind="customer", name="မန္တလေးသရက်သီး", country="MM"))
        db.session.commit()
    login(client, "admin")
    first = client.get("/admin/organizations?q=farm").get_data(as_text=True)
    assert "30 found" in first and "Farm 00" in first and "Farm 29" not in first
    assert "Page 1 of 2" in first
    second = client.get("/admin/organizations?q=farm&page=2").get_data(as_text=True)
    assert "Farm 29" in second and "Farm 00" not in second
    for q, name in [("สยาม", "บริษัท สยามเทรด จำกัด"), ("bat trang", "Gốm Bát Tràng Minh Long"),
                    ("GỐM", "Gốm Bát Tràng Minh Long"), ("သရက်", "မန္တလေးသရက်သီး")]:
        page = client.get("/admin/organizations", query_string={"q": q}).get_data(as_text=True)
        assert name in page and "1 found" in page, q
    for odd in ("page=-1", "page=abc", "page=999999999999", "q=" + "x" * 500):
        assert client.get(f"/admin/organizations?{odd}").status_code == 200
    people = client.get("/admin/people?q=other").get_data(as_text=True)
    assert "Other_Producer" in people and "Takeo Rice Coop" not in people


def test_a_coordinator_sees_and_edits_only_whom_onboarding_lets_them_reach(app, world, client):
    login(client, "coordinator")
    orgs = client.get("/admin/organizations").get_data(as_text=True)
    assert "Takeo Rice Coop" in orgs and "Bangkok Buyer" in orgs and "Lao Silk Weavers" not in orgs
    people = client.get("/admin/people").get_data(as_text=True)
    assert "Producer" in people and "Other_Producer" not in people and "Other_Coordinator" not in people
    for path in (f"/admin/organizations/{world.orgs['weaver']}", f"/admin/people/{world.users['other_producer']}",
                 f"/admin/people/{world.users['admin']}", f"/admin/people/{world.users['other_coordinator']}",
                 "/admin/people/99999999999999", "/admin/organizations/0"):
        assert client.get(path).status_code == 404, path
    r = client.post(f"/admin/people/{world.users['other_producer']}/deactivate")
    assert r.status_code == 404
    r = client.post(f"/admin/organizations/{world.orgs['weaver']}/deactivate")
    assert r.status_code == 404
    with app.app_context():
        assert db.session.get(User, world.users["other_producer"]).active
        assert db.session.get(Organization, world.orgs["weaver"]).active
    # Once the buyer also buys from the silk cluster, only an admin may manage its people.
    with app.app_context():
        make_order(world.orgs["weaver"], world.orgs["buyer"])
        db.session.commit()
    assert client.get(f"/admin/people/{world.users['customer']}").status_code == 404
    assert client.get(f"/admin/organizations/{world.orgs['buyer']}").status_code == 404


def test_a_coordinator_changes_roles_only_within_the_invite_rules(app, world, client):
    login(client, "coordinator")
    with app.app_context():
        producer = db.session.get(User, world.users["producer"])
        url = f"/admin/people/{producer.id}"
        cases = [
            ({"role": "admin"}, "role", "Choose a role."),
            ({"role": "coordinator"}, "role", "Choose a role."),
            ({"organization": str(world.orgs["weaver"])}, "organization", "Choose an organization of this kind."),
            ({"role": "customer"}, "organization", "Choose an organization of this kind."),
            ({"display_name": ""}, "display_name", "Please fill this in."),
            ({"display_name": "n" * 81}, "display_name", "At most 80 characters."),
            ({"locale": "fr"}, "locale", "Choose a language."),
            ({"timezone": "Europe/Paris"}, "timezone", "Choose a time zone."),
            ({"email": "not-an-address"}, "email", "This is not an e-mail address."),
            ({"email": "a" * 250 + "@x.org"}, "email", "At most 254 characters."),
            ({"phone": "call me"}, "phone", "Enter the phone number with digits only, e.g. +85512345678."),
            ({"organization": "abc"}, "organization", "Please choose one of the offered values."),
        ]
        for fields, field, message in cases:
            r = client.post(url, data=person_form(producer, **fields))
            assert r.status_code == 422 and message in r.get_data(as_text=True), fields
            r = client.post(url, data=person_form(producer, **fields), headers=JSON)
            assert r.get_json()["error"]["fields"][field] == message, fields
        db.session.expire_all()
        assert (producer.role, producer.organization_id) == ("producer", world.orgs["farm"])
    r = client.post(url, data=person_form(producer, display_name="សុខា", locale="km",
                                          timezone="Asia/Phnom_Penh", phone="+855 12 345 678",
                                          email="Sokha@Example.org"))
    assert r.status_code == 303
    with app.app_context():
        producer = db.session.get(User, world.users["producer"])
        assert (producer.display_name, producer.locale, producer.phone, producer.email) == (
            "សុខា", "km", "+85512345678", "sokha@example.org")


def test_an_admin_makes_someone_a_coordinator_of_chosen_clusters(app, world, client):
    login(client, "admin")
    with app.app_context():
        person = db.session.get(User, world.users["other_producer"])
        url = f"/admin/people/{person.id}"
        r = client.post(url, data=person_form(person, role="coordinator"))
        assert r.status_code == 422 and "Choose at least one cluster." in r.get_data(as_text=True)
        r = client.post(url, data=person_form(person, role="coordinator", clusters=[str(world.clusters["silk"])]))
        assert r.status_code == 303
        db.session.expire_all()
        person = db.session.get(User, world.users["other_producer"])
        assert person.role == "coordinator" and person.organization_id is None
        assert [c.id for c in person.clusters] == [world.clusters["silk"]]
        # An e-mail address someone else has is refused.
        other = db.session.get(User, world.users["customer"])
        other.email = "taken@example.org"
        db.session.commit()
        r = client.post(url, data=person_form(person, email="TAKEN@example.org",
                                              clusters=[str(world.clusters["silk"])]))
        assert r.status_code == 422 and "This e-mail address is already used." in r.get_data(as_text=True)


def test_an_admin_cannot_change_their_own_role_or_leave_no_admin(app, world, client):
    login(client, "admin")
    with app.app_context():
        me = db.session.get(User, world.users["admin"])
        r = client.post(f"/admin/people/{me.id}", data=person_form(me, role="customer",
                                                                  organization=str(world.orgs["buyer"])))
        assert r.status_code == 422 and "You cannot change your own role." in r.get_data(as_text=True)
    r = client.post(f"/admin/people/{world.users['admin']}/deactivate")
    assert r.status_code == 409 and "You cannot deactivate yourself." in r.get_data(as_text=True)
    r = client.post(f"/admin/people/{world.users['admin']}/deactivate", headers=JSON)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_yourself"
    with app.app_context():
        assert db.session.get(User, world.users["admin"]).active


def test_the_last_active_admin_cannot_be_deactivated(app, world, client, runner):
    with app.app_context():
        make_user("admin2", "admin")
        db.session.commit()
    login(client, "admin2")
    assert client.post(f"/admin/people/{world.users['admin']}/deactivate").status_code == 303
    result = runner.invoke(args=["user", "deactivate", "admin2"])
    assert result.exit_code != 0 and "at least one active administrator" in result.output
    with app.app_context():
        assert get(User, username="admin2").active


def test_the_edit_form_cannot_reach_an_organization_of_another_kind_or_move_kind_with_history(app, world, client):
    login(client, "admin")
    url = f"/admin/organizations/{world.orgs['farm']}"
    data = {"name": "Takeo Rice Coop", "kind": "customer", "country": "KH", "province": "", "cluster": "0"}
    r = client.post(url, data=data)
    assert r.status_code == 422
    assert "An organization that has orders or people cannot change its kind." in r.get_data(as_text=True)
    r = client.post(url, data={**data, "kind": "producer", "cluster": "0"})
    assert r.status_code == 422 and "Choose one of your clusters." in r.get_data(as_text=True)
    r = client.post(url, data={**data, "kind": "producer", "cluster": str(world.clusters["silk"]),
                               "name": "Takeo Rice Cooperative", "province": "Takeo"})
    assert r.status_code == 303
    with app.app_context():
        farm = db.session.get(Organization, world.orgs["farm"])
        assert (farm.name, farm.cluster_id, farm.province) == (
            "Takeo Rice Cooperative", world.clusters["silk"], "Takeo")


def test_a_coordinator_cannot_move_a_producer_into_a_cluster_they_do_not_coordinate(app, world, client):
    login(client, "coordinator")
    r = client.post(f"/admin/organizations/{world.orgs['farm']}", data={
        "name": "Takeo Rice Coop", "kind": "producer", "country": "KH", "cluster": str(world.clusters["silk"])})
    assert r.status_code == 422 and "Choose one of your clusters." in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Organization, world.orgs["farm"]).cluster_id == world.clusters["rice"]


# --- deactivation -------------------------------------------------------------------------------

def test_deactivating_someone_refuses_their_live_session_and_token_on_the_very_next_request(app, world, client):
    phone = login(app.test_client(), "producer")
    assert phone.get("/orders").status_code == 200
    with app.app_context():
        token = create_api_token(db.session.get(User, world.users["producer"]), "erp")
        db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 200
    login(client, "coordinator")
    r = client.post(f"/admin/people/{world.users['producer']}/deactivate",
                    data={"client_id": "deactivate-0001"})
    assert r.status_code == 303
    assert phone.get("/orders").status_code == 302  # sent to log in
    assert phone.get("/orders", headers=JSON).status_code == 401
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401
    assert app.test_client().post("/login", data={"login": "producer", "password": PASSWORD}).status_code != 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(
            UserSession.user_id == world.users["producer"], UserSession.revoked_at.is_(None))) == 0
    # A replay of the same request answers the same and changes nothing more.
    again = client.post(f"/admin/people/{world.users['producer']}/deactivate",
                        data={"client_id": "deactivate-0001"}, headers=JSON)
    assert again.status_code == 200 and again.get_json()["active"] is False
    page = client.get("/admin/people").get_data(as_text=True)
    assert "Deactivated" in page
    # Reactivated, they sign in again with their password.
    assert client.post(f"/admin/people/{world.users['producer']}/reactivate").status_code == 303
    assert login(app.test_client(), "producer").get("/orders").status_code == 200


def test_deactivating_an_organization_ends_its_people_and_its_new_orders_but_keeps_its_history(app, world, client):
    buyer_phone = login(app.test_client(), "customer")
    login(client, "admin")
    r = client.post(f"/admin/organizations/{world.orgs['farm']}/deactivate")
    assert r.status_code == 303
    with app.app_context():
        assert not db.session.get(User, world.users["producer"]).active
        assert not db.session.get(Organization, world.orgs["farm"]).active
    # The customer can no longer choose the farm for a new order, nor send it by the API ...
    form = buyer_phone.get("/orders/new").get_data(as_text=True)
    assert "Takeo Rice Coop" not in form and "Lao Silk Weavers" in form
    r = buyer_phone.post("/api/v1/orders", headers=JSON, json={
        "producer_org_id": world.orgs["farm"], "product": "rice", "quantity": "1", "unit": "kg",
        "origin": "Takeo", "destination": "Bangkok"})
    assert r.status_code in (401, 422)
    r = buyer_phone.post("/orders/new", headers=JSON, data={
        "producer_org_id": str(world.orgs["farm"]), "product": "rice", "quantity": "1", "unit": "kg",
        "origin": "Takeo", "destination": "Bangkok"})
    assert r.status_code == 422 and "producer_org_id" in r.get_json()["error"]["fields"]
    # ... but the orders it had stay: the buyer and the admin still see them.
    assert buyer_phone.get(f"/orders/{world.issue_order}").status_code == 200
    assert client.get(f"/orders/{world.issue_order}").status_code == 200
    # Nobody can be invited into it, nor reactivated in it, until it is reactivated.
    r = client.post("/onboarding/people/new", data={
        "display_name": "New", "username": "newfarmer", "role": "producer",
        "organization": str(world.orgs["farm"]), "locale": "km", "timezone": "Asia/Phnom_Penh"})
    assert r.status_code == 422
    r = client.post(f"/admin/people/{world.users['producer']}/reactivate")
    assert r.status_code == 409 and "reactivate it first" in r.get_data(as_text=True)
    assert client.post(f"/admin/organizations/{world.orgs['farm']}/reactivate").status_code == 303
    with app.app_context():
        assert not db.session.get(User, world.users["producer"]).active  # each one on their own
    assert client.post(f"/admin/people/{world.users['producer']}/reactivate").status_code == 303
    assert "Takeo Rice Coop" in buyer_phone.get("/orders/new").get_data(as_text=True)


def test_the_people_page_leads_to_the_admin_pages(app, world, client):
    login(client, "admin")
    page = client.get("/onboarding/").get_data(as_text=True)
    assert "/admin/people" in page and "/admin/organizations" in page and "/admin/clusters" in page
    assert f"/admin/organizations/{world.orgs['farm']}" in page
    login(app.test_client(), "coordinator")
    page = login(app.test_client(), "coordinator").get("/onboarding/").get_data(as_text=True)
    assert "/admin/people" in page and "/admin/clusters" not in page


def test_errors_are_in_the_page_language(app, world, client):
    login(client, "admin")
    with app.app_context():
        me = db.session.get(User, world.users["admin"])
        me.locale = "vi"
        db.session.commit()
    r = client.post("/admin/clusters/new", data=cluster_form(country="ZZ", name=""))
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "Choose a country." not in text and "Please fill this in." not in text


# --- the same from a shell --------------------------------------------------------------------

def test_the_commands_call_the_same_rules(app, world, runner):
    r = runner.invoke(args=["cluster", "create", "--name", "Shan macadamia", "--country", "mm",
                            "--province", "Shan", "--product", "macadamia", "--coordinator", "coordinator"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["cluster", "create", "--name", "shan MACADAMIA", "--country", "MM",
                            "--product", "macadamia"])
    assert r.exit_code != 0 and "already exists" in r.output
    r = runner.invoke(args=["cluster", "create", "--name", "X", "--country", "FR", "--product", "x"])
    assert r.exit_code != 0 and "Choose a country." in r.output
    r = runner.invoke(args=["cluster", "edit", "Shan macadamia", "--product", "nuts",
                            "--coordinator", "other_coordinator"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["cluster", "edit", "Shan macadamia", "--coordinator", "producer"])
    assert r.exit_code != 0 and "Choose coordinators from the list." in r.output
    r = runner.invoke(args=["cluster", "list", "--search", "shan"])
    assert "Shan macadamia\tMM\tShan\tnuts\tother_coordinator" in r.output
    assert runner.invoke(args=["cluster", "edit", "nope"]).exit_code != 0

    assert runner.invoke(args=["user", "deactivate", "producer"]).exit_code == 0
    with app.app_context():
        assert not get(User, username="producer").active
    assert runner.invoke(args=["user", "reactivate", "producer"]).exit_code == 0
    assert runner.invoke(args=["user", "deactivate", "nobody"]).exit_code != 0

    farm = str(world.orgs["farm"])
    assert runner.invoke(args=["org", "deactivate", farm]).exit_code == 0
    with app.app_context():
        assert not get(Organization, id=world.orgs["farm"]).active
        assert not get(User, username="producer").active
        assert db.session.scalar(select(func.count()).select_from(Order)) >= 1  # history stays
    r = runner.invoke(args=["user", "reactivate", "producer"])
    assert r.exit_code != 0 and "reactivate it first" in r.output
    assert "deactivated" in runner.invoke(args=["org", "list", "--search", "takeo"]).output
    assert runner.invoke(args=["org", "reactivate", farm]).exit_code == 0
    assert runner.invoke(args=["org", "deactivate", "abc"]).exit_code != 0
    assert runner.invoke(args=["org", "deactivate", "99999999999"]).exit_code != 0
