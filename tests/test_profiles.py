"""Producer profiles, their track record, the directory and enquiries (secgo/profiles)."""
import io
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from secgo.extensions import db
from secgo.limits import LIMITS
from secgo.models import (Attachment, Cluster, Enquiry, EnquiryMessage, Notification, Organization, Profile,
                          PromptnessRollup, User, utcnow)
from secgo.profiles import services
from tests.factories import jpeg_bytes

NO_CSRF = [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}]
pytestmark = pytest.mark.parametrize("app", NO_CSRF, indirect=True)


def login(client, name):
    client.post("/login", data={"login": name, "password": "correct horse battery"})


def key():
    return str(uuid.uuid4())


PROFILE = {
    "description": "ស្រូវសរីរាង្គពីតាកែវ", "description_en": "Organic jasmine rice from Takeo",
    "contact_name": "Sokha", "contact_phone": "+855 12 345 678",
    "contact_languages": ["km", "en"], "export_markets": ["TH", "VN", "EU"],
    "capacity_private": False, "show_track_record": True,
    "products": [
        {"name": "អង្ករផ្កាម្លិះ", "name_en": "Jasmine rice", "unit": "kg", "monthly_capacity": "20000",
         "season_from": 11, "season_to": 2},
        {"name": "Bát Tràng mug", "name_en": "", "unit": "pcs", "monthly_capacity": 500},
    ],
    "certifications": [
        {"kind": "organic", "name": "Ecocert", "expires_on": (date.today() + timedelta(days=300)).isoformat()},
        {"kind": "halal", "name": "Old", "expires_on": "2020-01-01"},
    ],
}


def put(client, org_id, body, idem=None):
    return client.put(f"/api/v1/profiles/{org_id}", json=body, headers={"Idempotency-Key": idem or key()})


@pytest.fixture
def farm_profile(app, world):
    client = app.test_client()
    login(client, "producer")
    response = put(client, world.orgs["farm"], PROFILE)
    assert response.status_code == 200, response.get_json()
    return world


def test_producer_fills_in_its_profile_and_buyers_read_it_in_their_language(app, farm_profile):
    world = farm_profile
    client = app.test_client()
    login(client, "other_customer")
    page = client.get(f"/profiles/{world.orgs['farm']}").get_data(as_text=True)
    assert "Jasmine rice" in page and "Organic jasmine rice from Takeo" in page
    assert "Ecocert" in page and "expired" in page  # the halal one ran out in 2020
    assert "+85512345678" not in page  # no order or enquiry with the farm: no phone
    buyer = app.test_client()
    login(buyer, "customer")  # the world's order is between the farm and this buyer
    assert "+85512345678" in buyer.get(f"/profiles/{world.orgs['farm']}").get_data(as_text=True)
    with app.app_context():
        db.session.get(User, world.users["other_customer"]).locale = "km"
        db.session.commit()
    page = client.get(f"/profiles/{world.orgs['farm']}").get_data(as_text=True)
    assert "អង្ករផ្កាម្លិះ" in page and "ស្រូវសរីរាង្គពីតាកែវ" in page


def test_the_edit_page_saves_rows_and_shows_them_again(app, world):
    client = app.test_client()
    login(client, "producer")
    org = world.orgs["farm"]
    assert client.get(f"/profiles/{org}/edit").status_code == 200
    form = {"client_id": key(), "description": "Rice", "p0_name": "Rice", "p0_name_en": "Rice",
            "p0_unit": "kg", "p0_capacity": "1,500", "p0_from": "", "p0_to": "", "p1_name": "",
            "c0_kind": "gap", "c0_name": "ThaiGAP", "c0_expires": "2030-01-31", "c0_doc": "",
            "contact_languages": ["km", "th"], "export_markets": ["TH"], "show_track_record": "1",
            "c0_file": (io.BytesIO(jpeg_bytes()), "cert.jpg")}
    response = client.post(f"/profiles/{org}/edit", data=form, content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        profile = db.session.get(Profile, org)
        assert [p.name for p in profile.products] == ["Rice"] and profile.products[0].monthly_capacity == 1500
        assert profile.certifications[0].kind == "gap" and profile.certifications[0].document_id
        assert profile.languages == ["km", "th"] and profile.show_track_record
        doc = profile.certifications[0].document_id
    edit = client.get(f"/profiles/{org}/edit").get_data(as_text=True)
    assert 'value="ThaiGAP"' in edit and f'name="c0_doc" value="{doc}"' in edit
    # A buyer sees the certificate's picture; a producer of another cluster does not.
    buyer = app.test_client()
    login(buyer, "customer")
    assert buyer.get(f"/attachments/{doc}").status_code == 200
    other = app.test_client()
    login(other, "other_producer")
    assert other.get(f"/attachments/{doc}").status_code == 404


def test_a_refused_edit_keeps_what_was_typed_and_changes_nothing(app, farm_profile):
    client = app.test_client()
    login(client, "producer")
    org = farm_profile.orgs["farm"]
    form = {"client_id": key(), "description": "new text", "p0_name": "Rice", "p0_capacity": "lots",
            "c0_kind": "platinum", "c0_expires": "31/12/2030", "contact_phone": "call me"}
    response = client.post(f"/profiles/{org}/edit", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "new text" in page and "for example 1500" in page and "2027-06-30" in page
    with app.app_context():
        assert db.session.get(Profile, org).description == PROFILE["description"]


@pytest.mark.parametrize("body, field", [
    ({"description": 5}, "description"),
    ({"description": "x" * (LIMITS["description"] + 1)}, "description"),
    ({"contact_name": "a\x00b"}, None),  # NUL anywhere is refused before any view
    ({"contact_languages": "km,th"}, "contact_languages"),
    ({"contact_languages": ["xx"]}, "contact_languages"),
    ({"export_markets": {"TH": 1}}, "export_markets"),
    ({"capacity_private": "maybe"}, "capacity_private"),
    ({"products": "rice"}, "products"),
    ({"products": [{"name": "r"}] * 13}, "products"),
    ({"products": [{"name": "", "unit": "kg"}]}, "products.0.name"),
    ({"products": [{"name": "r", "monthly_capacity": "1e9"}]}, "products.0.monthly_capacity"),
    ({"products": [{"name": "r", "monthly_capacity": -5}]}, "products.0.monthly_capacity"),
    ({"products": [{"name": "r", "season_from": 13, "season_to": 1}]}, "products.0.season_from"),
    ({"products": [{"name": "r", "season_from": 3}]}, "products.0.season_to"),
    ({"certifications": [{"kind": "gold"}]}, "certifications.0.kind"),
    ({"certifications": [{"kind": "gi", "expires_on": "tomorrow"}]}, "certifications.0.expires_on"),
    ({"certifications": [{"kind": "gi", "document_id": 999999}]}, "certifications.0.document_id"),
    ({"photo_ids": [999999]}, "photo_ids"),
    ({"photo_ids": "1"}, "photo_ids"),
])
def test_hostile_profile_input_is_refused_with_a_field_message_and_changes_nothing(
        app, farm_profile, body, field):
    client = app.test_client()
    login(client, "producer")
    org = farm_profile.orgs["farm"]
    response = put(client, org, {**PROFILE, **body})
    assert response.status_code in (400, 422), response.get_json()
    error = response.get_json()["error"]
    if field:
        assert field in error["fields"], error
    with app.app_context():
        profile = db.session.get(Profile, org)
        assert profile.description == PROFILE["description"] and len(profile.products) == 2


def test_someone_elses_photo_cannot_be_put_on_a_profile(app, farm_profile):
    from tests.factories import matrix_photo

    with app.app_context():
        photo = matrix_photo(farm_profile, uploader="customer")
    client = app.test_client()
    login(client, "producer")
    response = put(client, farm_profile.orgs["farm"], {**PROFILE, "photo_ids": [photo]})
    assert response.status_code == 422 and "photo_ids" in response.get_json()["error"]["fields"]


def test_script_in_text_is_shown_as_text(app, farm_profile):
    client = app.test_client()
    login(client, "producer")
    org = farm_profile.orgs["farm"]
    assert put(client, org, {**PROFILE, "description_en": "<script>alert(1)</script>"}).status_code == 200
    buyer = app.test_client()
    login(buyer, "customer")
    page = buyer.get(f"/profiles/{org}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_a_replayed_save_is_answered_once(app, farm_profile):
    client = app.test_client()
    login(client, "producer")
    idem = key()
    first = put(client, farm_profile.orgs["farm"], PROFILE, idem)
    again = put(client, farm_profile.orgs["farm"], PROFILE, idem)
    assert first.get_json() == again.get_json()
    assert put(client, farm_profile.orgs["farm"], {**PROFILE, "description": "other"}, idem).status_code == 409


def test_who_may_edit_and_who_may_see(app, farm_profile):
    org = farm_profile.orgs["farm"]
    expected = {"producer": 200, "coordinator": 200, "admin": 200, "customer": 403,
                "other_coordinator": 403, "other_producer": 404, "other_customer": 403}
    for name, status in expected.items():
        client = app.test_client()
        login(client, name)
        assert client.get(f"/profiles/{org}/edit").status_code == status, name
        assert put(client, org, PROFILE).status_code == status, name
    # A customer organization has no profile.
    client = app.test_client()
    login(client, "customer")
    assert client.get(f"/profiles/{farm_profile.orgs['buyer']}").status_code == 404


# --- the track record ----------------------------------------------------------------------------

def _rollup(org_id, month, delivered, on_time, with_due, updates, confirmed):
    db.session.add(PromptnessRollup(scope="all", month=month, dim="producer", key=str(org_id),
                                    delivered=delivered, on_time=on_time, with_due=with_due,
                                    updates=updates, confirmed=confirmed))


def test_the_track_record_shows_only_when_opted_in_and_with_enough_orders(app, farm_profile):
    org = farm_profile.orgs["farm"]
    month = utcnow().strftime("%Y-%m")
    client = app.test_client()
    login(client, "customer")
    with app.app_context():
        _rollup(org, month, 3, 2, 3, 10, 5)
        db.session.commit()
    page = client.get(f"/profiles/{org}").get_data(as_text=True)
    assert "Not enough orders yet" in page
    with app.app_context():
        _rollup(org, "2001-01", 50, 50, 50, 50, 50)  # outside the 12 months: not counted
        row = db.session.scalar(select(PromptnessRollup).where(PromptnessRollup.month == month))
        row.delivered, row.on_time, row.with_due, row.updates, row.confirmed = 8, 6, 8, 20, 15
        db.session.commit()
    data = client.get(f"/api/v1/profiles/{org}").get_json()["track_record"]
    assert data["enough"] and data["delivered"] == 8
    assert data["on_time_share"] == 75 and data["confirmed_share"] == 75
    page = client.get(f"/profiles/{org}").get_data(as_text=True)
    assert "Orders delivered" in page and "75%" in page
    producer = app.test_client()
    login(producer, "producer")
    assert put(producer, org, {**PROFILE, "show_track_record": False}).status_code == 200
    assert "Track record on SEC GO!" not in client.get(f"/profiles/{org}").get_data(as_text=True)
    assert client.get(f"/api/v1/profiles/{org}").get_json()["track_record"] is None


# --- the directory ----------------------------------------------------------------------------

@pytest.fixture
def directory_world(app, farm_profile):
    world = farm_profile
    client = app.test_client()
    login(client, "other_producer")
    silk = {"description": "ຜ້າໄໝມັດໝີ່", "description_en": "Hand-woven silk", "capacity_private": True,
            "products": [{"name": "ຜ້າໄໝ", "name_en": "Silk scarf", "unit": "pcs", "monthly_capacity": 900000}],
            "certifications": [{"kind": "gi", "name": "Lao GI"}]}
    assert put(client, world.orgs["weaver"], silk).status_code == 200
    return world


@pytest.mark.parametrize("args, names", [
    ({}, {"Takeo Rice Coop", "Lao Silk Weavers"}),
    ({"q": "ផ្កាម្លិះ"}, {"Takeo Rice Coop"}),  # Khmer, a substring of a word
    ({"q": "ໄໝ"}, {"Lao Silk Weavers"}),  # Lao
    ({"q": "bat trang"}, {"Takeo Rice Coop"}),  # Vietnamese without its marks
    ({"q": "JASMINE"}, {"Takeo Rice Coop"}),
    ({"country": "LA"}, {"Lao Silk Weavers"}),
    ({"certification": "organic"}, {"Takeo Rice Coop"}),
    ({"certification": "halal"}, set()),  # expired
    ({"capacity": "10000"}, {"Takeo Rice Coop"}),  # the weaver's capacity is private
    ({"capacity": "10000", "q": "mug"}, set()),  # the mug makes 500 a month
    ({"q": "100%_\\"}, set()),
])
def test_directory_search(app, directory_world, args, names):
    client = app.test_client()
    login(client, "customer")
    data = client.get("/api/v1/directory", query_string=args).get_json()
    assert {i["name"] for i in data["items"]} == names
    page = client.get("/directory", query_string=args).get_data(as_text=True)
    for name in names:
        assert name in page


def test_the_directory_finds_thai_and_burmese_by_part_of_a_word(app, directory_world):
    """Thai and Burmese are written without spaces between words: a part of a word finds it,
    as in the order search (the same folding)."""
    with app.app_context():
        editor = db.session.get(User, directory_world.users["admin"])
        for name, country, product in (("Chiang Rai Tea", "TH", "ชาอู่หลงออร์แกนิก"),
                                       ("Shan Hills Coffee", "MM", "ရှမ်းကော်ဖီစေ့")):
            org = Organization(kind="producer", name=name, country=country, province="",
                               cluster_id=directory_world.clusters["rice"])
            db.session.add(org)
            db.session.flush()
            services.save_profile(editor, org, {"products": [{"name": product, "monthly_capacity": 10}]})
        db.session.commit()
    client = app.test_client()
    login(client, "customer")
    for query, found in (("อู่หลง", "Chiang Rai Tea"), ("ကော်ဖီ", "Shan Hills Coffee")):
        names = {i["name"] for i in client.get("/api/v1/directory", query_string={"q": query}).get_json()["items"]}
        assert names == {found}, query
        assert found in client.get("/directory", query_string={"q": query}).get_data(as_text=True)


def test_directory_hides_private_capacity_and_refuses_a_bad_one(app, directory_world):
    client = app.test_client()
    login(client, "customer")
    items = {i["name"]: i for i in client.get("/api/v1/directory").get_json()["items"]}
    assert items["Lao Silk Weavers"]["products"][0]["monthly_capacity"] is None
    assert "contact_phone" not in items["Takeo Rice Coop"]
    assert client.get("/api/v1/directory?capacity=lots").status_code == 422
    assert client.get("/directory?capacity=lots").status_code == 422


def test_directory_is_for_buyers_and_coordinators(app, directory_world):
    for name, status in {"producer": 403, "other_producer": 403, "customer": 200, "coordinator": 200,
                         "other_coordinator": 200, "admin": 200}.items():
        client = app.test_client()
        login(client, name)
        assert client.get("/directory").status_code == status, name
        assert client.get("/api/v1/directory").status_code == status, name


def test_directory_pages_in_a_constant_number_of_queries(app, directory_world):
    with app.app_context():
        for i in range(45):
            org = Organization(kind="producer", name=f"Farm {i:02d}", country="KH", province="Takeo",
                               cluster_id=directory_world.clusters["rice"])
            db.session.add(org)
            db.session.flush()
            editor = db.session.get(User, directory_world.users["admin"])
            services.save_profile(editor, org, {"products": [{"name": f"rice {i}", "monthly_capacity": 10}],
                                                "certifications": [{"kind": "organic"}]})
        db.session.commit()
    client = app.test_client()
    login(client, "customer")
    counts = []
    for number in (1, 2):
        with app.app_context():
            seen: list = []
            listener = lambda *args, seen=seen: seen.append(1)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            response = client.get(f"/directory?page={number}")
            event.remove(db.engine, "before_cursor_execute", listener)
        assert response.status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1] and counts[0] < 20
    data = client.get("/api/v1/directory?page=3").get_json()
    assert data["pages"] == 3 and len(data["items"]) == 47 - 40


# --- enquiries --------------------------------------------------------------------------------

def test_a_buyer_asks_the_producer_answers_and_both_hear_of_it(app, farm_profile):
    world = farm_profile
    org = world.orgs["farm"]
    buyer = app.test_client()
    login(buyer, "customer")
    response = buyer.post(f"/profiles/{org}/enquiries", data={
        "client_id": key(), "product": "Jasmine rice", "quantity": "5000", "unit": "kg",
        "body": "Can you ship 5 t to Bangkok in March?"})
    assert response.status_code == 303
    location = response.headers["Location"]
    with app.app_context():
        enquiry = db.session.scalar(select(Enquiry))
        told = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.event == "enquiry"))}
        assert told == {world.users["producer"], world.users["coordinator"]}
    producer = app.test_client()
    login(producer, "producer")
    assert "Can you ship 5 t" in producer.get(location).get_data(as_text=True)
    assert producer.post(f"{location}/messages", data={"client_id": key(), "body": "Yes, 5 t in March."}
                         ).status_code == 303
    with app.app_context():
        told = {n.user_id for n in db.session.scalars(select(Notification).where(
            Notification.event == "enquiry_reply"))}
        assert told == {world.users["customer"], world.users["coordinator"]}
    for name, status in {"other_customer": 404, "other_producer": 404, "other_coordinator": 404,
                         "coordinator": 200, "admin": 200}.items():
        client = app.test_client()
        login(client, name)
        assert client.get(f"/enquiries/{enquiry.id}").status_code == status, name
        assert client.get(f"/api/v1/enquiries/{enquiry.id}").status_code == status, name
        listed = client.get("/api/v1/enquiries").get_json()["items"]
        assert (enquiry.id in [e["id"] for e in listed]) == (status == 200), name


def test_enquiry_refusals(app, farm_profile):
    org = farm_profile.orgs["farm"]
    buyer = app.test_client()
    login(buyer, "customer")
    for body, field in (({"body": ""}, "body"), ({"body": "x" * (LIMITS["body"] + 1)}, "body"), ({"body": 5}, "body"),
                        ({"body": "hi", "quantity": "-1"}, "quantity"), ({"body": "hi", "product": ["a"]}, "product")):
        response = buyer.post(f"/api/v1/profiles/{org}/enquiries", json=body,
                              headers={"Idempotency-Key": key()})
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"], body
    producer = app.test_client()
    login(producer, "producer")
    assert producer.post(f"/api/v1/profiles/{org}/enquiries", json={"body": "hi"}).status_code == 403
    idem = key()
    first = buyer.post(f"/api/v1/profiles/{org}/enquiries", json={"body": "hi"}, headers={"Idempotency-Key": idem})
    again = buyer.post(f"/api/v1/profiles/{org}/enquiries", json={"body": "hi"}, headers={"Idempotency-Key": idem})
    assert first.status_code == again.status_code == 201 and first.get_json()["id"] == again.get_json()["id"]
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(EnquiryMessage)) == 1
    page = buyer.post(f"/profiles/{org}/enquiries", data={"client_id": key(), "body": ""})
    assert page.status_code == 422 and "Please fill this in." in page.get_data(as_text=True)


def test_enquiry_push_texts_in_the_recipients_language(app, farm_profile):
    from secgo.push.payload import render

    org = farm_profile.orgs["farm"]
    buyer = app.test_client()
    login(buyer, "customer")
    buyer.post(f"/api/v1/profiles/{org}/enquiries", json={"body": "hi", "product": "Jasmine rice"})
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.event == "enquiry"))
        user = db.session.get(User, note.user_id)
        user.locale = "km"
        payload = render(note, user)
        assert "Bangkok Buyer" in payload["title"] and "Jasmine rice" in payload["body"]
        assert payload["url"].startswith("/enquiries/") and payload["lang"] == "km"


def test_the_demo_has_profiles_and_a_track_record(app):
    from secgo.demo import seed_demo

    with app.app_context():
        seed_demo()
        rice = db.session.scalar(select(Organization).where(Organization.name == "Takeo Organic Rice Cooperative"))
        small = db.session.scalar(select(Organization).where(Organization.name == "សហគមន៍ស្រូវសរីរាង្គតាកែវ"))
        record = services.track_record(rice)
        assert record.enough and record.delivered >= services.MIN_DELIVERED and record.customers == 1
        assert 0 <= record.on_time_share <= 100 and 0 <= record.confirmed_share <= 100
        assert not services.track_record(small).enough
        assert seed_demo() == 0  # a second run adds nothing
        rice_id, small_id = rice.id, small.id
    client = app.test_client()
    client.post("/login", data={"login": "demo-customer", "password": "demo-password"})
    page = client.get(f"/profiles/{rice_id}").get_data(as_text=True)
    assert "Orders delivered" in page and "Organic jasmine rice" in page
    assert "Not enough orders yet" in client.get(f"/profiles/{small_id}").get_data(as_text=True)
    assert "Takeo Organic Rice Cooperative" in client.get("/directory?q=jasmine").get_data(as_text=True)
    assert "Gốm Bát Tràng" in client.get("/directory?q=bat+trang").get_data(as_text=True)
    assert client.get("/enquiries").get_data(as_text=True).count("/enquiries/") >= 1
    with app.app_context():
        takeo = db.session.scalar(select(Cluster.id).where(Cluster.name == "Takeo organic rice"))
    cluster_page = client.get(f"/directory?cluster={takeo}").get_data(as_text=True)
    assert "Over 400 organic rice farming families" in cluster_page
    assert "+85512000111" in cluster_page  # the demo buyer orders from the cluster's producers


def test_a_clusters_producers_and_the_api_in_constant_queries(app, directory_world):
    world = directory_world
    client = app.test_client()
    login(client, "customer")
    page = client.get(f"/directory?cluster={world.clusters['silk']}").get_data(as_text=True)
    assert "Lao Silk Weavers" in page and "Takeo Rice Coop" not in page and "Vientiane silk" in page
    data = client.get(f"/api/v1/directory?cluster={world.clusters['rice']}").get_json()
    assert [i["name"] for i in data["items"]] == ["Takeo Rice Coop"] and data["items"][0]["cluster"]
    counts = []
    with app.app_context():
        listener = lambda *args: counts.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        client.get("/api/v1/directory")
        event.remove(db.engine, "before_cursor_execute", listener)
    first = len(counts)
    with app.app_context():
        for i in range(5):
            org = Organization(kind="producer", name=f"More {i}", country="KH", cluster_id=world.clusters["rice"])
            db.session.add(org)
            db.session.flush()
            services.save_profile(db.session.get(User, world.users["admin"]), org, {"products": [{"name": "x"}]})
        db.session.commit()
        counts.clear()
        event.listen(db.engine, "before_cursor_execute", listener)
        assert len(client.get("/api/v1/directory").get_json()["items"]) == 7
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(counts) == first


def test_a_fake_certificate_picture_is_refused_on_the_page_and_nothing_is_saved(app, farm_profile):
    client = app.test_client()
    login(client, "producer")
    org = farm_profile.orgs["farm"]
    form = {"client_id": key(), "description": "changed", "c0_kind": "organic", "c0_name": "x",
            "c0_file": (io.BytesIO(b"%PDF-1.4 not a picture"), "certificate.jpg")}
    response = client.post(f"/profiles/{org}/edit", data=form, content_type="multipart/form-data")
    assert response.status_code == 422  # read as the PDF it claims to be: the documents' rules
    assert "This PDF cannot be read" in response.get_data(as_text=True)
    form = {**form, "client_id": key(), "c0_file": (io.BytesIO(b"MZ\x90\x00 a program"), "certificate.pdf")}
    response = client.post(f"/profiles/{org}/edit", data=form, content_type="multipart/form-data")
    assert response.status_code == 415
    assert "Only a PDF or a photo of the paper" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Profile, org).description == PROFILE["description"]
        assert db.session.scalar(select(db.func.count()).select_from(Attachment)) == 0


def test_a_certificate_as_a_pdf_is_cleaned_and_served_like_an_orders_documents(app, farm_profile):
    import pikepdf

    from tests.test_documents import all_keys, encrypted_pdf, hostile_pdf

    org = farm_profile.orgs["farm"]
    producer = app.test_client()
    login(producer, "producer")
    form = {"client_id": key(), "description": "Rice", "c0_kind": "organic", "c0_name": "Ecocert",
            "c0_file": (io.BytesIO(hostile_pdf()), "ecocert.pdf")}
    assert producer.post(f"/profiles/{org}/edit", data=form, content_type="multipart/form-data").status_code == 303
    with app.app_context():
        [cert] = db.session.get(Profile, org).certifications
        doc_id, mime = cert.document_id, cert.document.mime
    assert mime == "application/pdf"
    buyer = app.test_client()
    login(buyer, "other_customer")
    assert "Certificate (PDF)" in buyer.get(f"/profiles/{org}").get_data(as_text=True)
    served = buyer.get(f"/attachments/{doc_id}")
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"].startswith("sandbox")
    assert served.headers["Content-Disposition"].startswith("inline;")
    assert served.headers["Cache-Control"].startswith("private")
    assert buyer.get(f"/attachments/{doc_id}?download=1").headers["Content-Disposition"].startswith("attachment;")
    keys = all_keys(pikepdf.open(io.BytesIO(served.data)))
    assert not keys & {"/OpenAction", "/AA", "/JS", "/EmbeddedFiles", "/AcroForm", "/EF", "S=/Launch"}
    assert buyer.get(f"/attachments/{doc_id}/thumb").mimetype == "image/jpeg"
    # Not for someone who may not see the profile; and a PDF is never a write's photo.
    weaver = app.test_client()
    login(weaver, "other_producer")
    assert weaver.get(f"/attachments/{doc_id}").status_code == 404
    assert put(producer, org, {**PROFILE, "photo_ids": [doc_id]}).status_code == 422
    # The API: the same intake, then the certification names it.
    url = f"/api/v1/profiles/{org}/certificates"
    refused = producer.post(url, data={"file": (io.BytesIO(encrypted_pdf()), "locked.pdf")},
                            content_type="multipart/form-data", headers={"Idempotency-Key": key()})
    assert refused.status_code == 422 and "password" in refused.get_json()["error"]["fields"]["document"]
    answer = producer.post(url, data={"file": (io.BytesIO(hostile_pdf()), "c.pdf")},
                           content_type="multipart/form-data", headers={"Idempotency-Key": key()})
    assert answer.status_code == 201 and answer.get_json()["mime"] == "application/pdf"
    body = {**PROFILE, "certifications": [{"kind": "gap", "document_id": answer.get_json()["id"]}]}
    shown = put(producer, org, body).get_json()["certifications"][0]
    assert shown["document_url"] == answer.get_json()["url"]
    for name, status in (("customer", 403), ("other_producer", 404)):
        other = app.test_client()
        login(other, name)
        assert other.post(url, data={"file": (io.BytesIO(hostile_pdf()), "c.pdf")},
                          content_type="multipart/form-data").status_code == status, name


def test_photos_stay_when_the_coordinator_edits_and_others_see_them(app, farm_profile):
    org = farm_profile.orgs["farm"]
    producer = app.test_client()
    login(producer, "producer")
    form = {"client_id": key(), "description": "Rice", "photos": (io.BytesIO(jpeg_bytes()), "farm.jpg")}
    assert producer.post(f"/profiles/{org}/edit", data=form, content_type="multipart/form-data").status_code == 303
    with app.app_context():
        [photo] = [p.id for p in db.session.get(Profile, org).photos]
    coordinator = app.test_client()
    login(coordinator, "coordinator")
    assert put(coordinator, org, {**PROFILE, "photo_ids": [photo]}).status_code == 200
    buyer = app.test_client()
    login(buyer, "other_customer")
    assert buyer.get(f"/attachments/{photo}/thumb").status_code == 200
    assert f"/attachments/{photo}/thumb" in buyer.get(f"/profiles/{org}").get_data(as_text=True)
    # Unticked on the edit page: the photo leaves the profile (and is no longer shown to others).
    assert put(coordinator, org, {**PROFILE, "photo_ids": []}).status_code == 200
    assert buyer.get(f"/attachments/{photo}/thumb").status_code == 404


def test_a_producer_reaches_its_profile_from_settings_and_buyers_from_the_menu(app, world):
    producer = app.test_client()
    login(producer, "producer")
    assert 'href="/profiles/mine"' in producer.get("/settings").get_data(as_text=True)
    assert producer.get("/profiles/mine").headers["Location"].endswith(f"/profiles/{world.orgs['farm']}")
    assert 'href="/directory"' not in producer.get("/orders").get_data(as_text=True)
    buyer = app.test_client()
    login(buyer, "customer")
    assert 'href="/directory"' in buyer.get("/orders").get_data(as_text=True)
    assert buyer.get("/profiles/mine").headers["Location"].endswith("/directory")


def test_emptying_a_row_on_the_edit_page_removes_it(app, farm_profile):
    client = app.test_client()
    login(client, "producer")
    org = farm_profile.orgs["farm"]
    form = {"client_id": key(), "description": "Rice", "p0_name": "", "p0_name_en": "", "p0_unit": "",
            "p0_capacity": "", "p1_name": "Red rice", "c0_kind": "", "c0_name": "", "c0_expires": "",
            "c0_doc": "", "c1_kind": "gi", "c1_name": "Kampot"}
    assert client.post(f"/profiles/{org}/edit", data=form).status_code == 303
    with app.app_context():
        profile = db.session.get(Profile, org)
        assert [p.name for p in profile.products] == ["Red rice"]
        assert [(c.kind, c.name) for c in profile.certifications] == [("gi", "Kampot")]


def _count_on(html, label):
    """The unread number on a button that says `label` ("" when none)."""
    import re

    found = re.search(rf'{label}( <span class="tab-count"[^>]*>([^<]+)</span>)?', html)
    assert found, label
    return found.group(2) or ""


def test_an_enquirys_answer_is_marked_new_for_the_other_side_until_they_open_the_thread(app, farm_profile):
    org = farm_profile.orgs["farm"]
    buyer = app.test_client()
    login(buyer, "customer")
    sent = buyer.post(f"/api/v1/profiles/{org}/enquiries", json={"body": "Rice for March?"},
                      headers={"Idempotency-Key": key()}).get_json()
    thread = f"/enquiries/{sent['id']}"
    # The buyer's own message is no news to the buyer.
    assert "New activity" not in buyer.get("/enquiries").get_data(as_text=True)
    assert _count_on(buyer.get("/directory").get_data(as_text=True), "My enquiries") == ""
    farm = app.test_client()
    login(farm, "producer")
    assert _count_on(farm.get(f"/profiles/{org}").get_data(as_text=True), "Enquiries") == "1"
    listing = farm.get("/enquiries").get_data(as_text=True)
    assert "New activity" in listing and "data-unread" in listing
    assert farm.get("/api/v1/enquiries").get_json()["items"][0]["unread"] is True
    # An API read marks nothing seen; opening the page does (after the page is made).
    assert farm.get(f"/api/v1{thread}").status_code == 200
    assert "New activity" in farm.get("/enquiries").get_data(as_text=True)
    first_visit = farm.get(thread).get_data(as_text=True)
    assert "New since your last visit" not in first_visit  # never opened: no divider, all is new
    assert "New activity" not in farm.get("/enquiries").get_data(as_text=True)
    assert _count_on(farm.get(f"/profiles/{org}").get_data(as_text=True), "Enquiries") == ""
    assert farm.post(f"{thread}/messages", data={"client_id": key(), "body": "Yes, 5 t."}).status_code == 303
    assert "New activity" not in farm.get("/enquiries").get_data(as_text=True)  # own answer
    buyer.get(thread)  # the buyer opens the thread and reads the first answer
    assert farm.post(f"{thread}/messages", data={"client_id": key(), "body": "Price 30 baht/kg."}).status_code == 303
    assert _count_on(buyer.get("/directory").get_data(as_text=True), "My enquiries") == "1"
    page = buyer.get(thread).get_data(as_text=True)
    assert "New since your last visit" in page
    assert page.index("New since your last visit") < page.index("Price 30 baht/kg.")
    assert page.index("Yes, 5 t.") < page.index("New since your last visit")
    assert _count_on(buyer.get("/directory").get_data(as_text=True), "My enquiries") == ""
    # Someone who may not see the thread gets no mark and no count from it.
    other = app.test_client()
    login(other, "other_customer")
    assert _count_on(other.get("/directory").get_data(as_text=True), "My enquiries") == ""


def test_a_clusters_coordinator_writes_its_profile_and_buyers_read_it_on_the_clusters_page(app, world):
    rice = world.clusters["rice"]
    coordinator = app.test_client()
    login(coordinator, "coordinator")
    page = coordinator.get(f"/directory?cluster={rice}").get_data(as_text=True)
    assert f"/clusters/{rice}/profile/edit" in page  # its own cluster: the edit button
    form = {"client_id": key(), "description": "កសិករស្រូវសរីរាង្គតាកែវ", "description_en": "Organic rice farmers of Takeo",
            "contact_name": "Dara", "contact_phone": "+855 12 999 888", "export_markets": ["TH", "EU"],
            "contact_languages": ["km", "en"]}
    response = coordinator.post(f"/clusters/{rice}/profile/edit", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/directory?cluster={rice}")
    buyer = app.test_client()
    login(buyer, "customer")  # buys from the rice cluster's farm: a party
    page = buyer.get(f"/directory?cluster={rice}").get_data(as_text=True)
    assert "Organic rice farmers of Takeo" in page and "Dara" in page and "+85512999888" in page
    assert f"/clusters/{rice}/profile/edit" not in page
    assert buyer.get(f"/api/v1/clusters/{rice}/profile").get_json()["contact_phone"] == "+85512999888"
    stranger = app.test_client()
    login(stranger, "other_customer")  # no order or enquiry with the cluster: no phone
    page = stranger.get(f"/directory?cluster={rice}").get_data(as_text=True)
    assert "Organic rice farmers of Takeo" in page and "+85512999888" not in page
    shown = stranger.get(f"/api/v1/clusters/{rice}/profile").get_json()
    assert "contact_phone" not in shown and shown["export_markets"] == ["TH", "EU"] and shown["editable"] is False
    with app.app_context():
        db.session.get(User, world.users["other_customer"]).locale = "km"
        db.session.commit()
    assert "កសិករស្រូវសរីរាង្គតាកែវ" in stranger.get(f"/directory?cluster={rice}").get_data(as_text=True)
    # Silk's coordinator sees the page but may not change it; a producer has no directory.
    silk = app.test_client()
    login(silk, "other_coordinator")
    assert silk.get(f"/clusters/{rice}/profile/edit").status_code == 403
    assert silk.put(f"/api/v1/clusters/{rice}/profile", json={"description": "x"}).status_code == 403
    farm = app.test_client()
    login(farm, "producer")
    assert farm.get(f"/api/v1/clusters/{rice}/profile").status_code == 404
    assert farm.get(f"/clusters/{rice}/profile/edit").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"contact_phone": "call me"}, "contact_phone"),
    ({"export_markets": ["XX"]}, "export_markets"),
    ({"contact_languages": "km"}, None),  # one code as a string is a list of one: accepted
    ({"description": "x" * (LIMITS["description"] + 1)}, "description"),
    ({"description": ["a"]}, "description"),
    ({"contact_name": {"a": 1}}, "contact_name"),
])
def test_a_hostile_cluster_profile_is_refused_with_its_field_and_changes_nothing(app, world, body, field):
    rice = world.clusters["rice"]
    admin = app.test_client()
    login(admin, "admin")
    assert admin.put(f"/api/v1/clusters/{rice}/profile", json={"description": "Kept"},
                     headers={"Idempotency-Key": key()}).status_code == 200
    response = admin.put(f"/api/v1/clusters/{rice}/profile", json=body, headers={"Idempotency-Key": key()})
    if field is None:
        assert response.status_code == 200
        return
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"], body
    assert admin.get(f"/api/v1/clusters/{rice}/profile").get_json()["description"] == "Kept"
    page = admin.post(f"/clusters/{rice}/profile/edit", data={"client_id": key(), "description": "Changed",
                                                                 "contact_phone": "call me"})
    assert page.status_code == 422 and "Enter the phone number" in page.get_data(as_text=True)
    assert admin.get(f"/api/v1/clusters/{rice}/profile").get_json()["description"] == "Kept"
