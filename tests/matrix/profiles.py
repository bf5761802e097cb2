"""Producer profiles, the directory and enquiries: the farm's profile (rice cluster), seen by
buyers and coordinators of any cluster, edited by its people, the rice coordinator and admins;
enquiries seen like the world's order (its two sides, the rice coordinator, admins)."""
import io
import uuid

from secgo.documents.sample import sample_pdf
from secgo.extensions import db
from secgo.models import Organization, User
from secgo.profiles import services

from .common import ON_ORDER, Row, as_json, form, logged_in, multipart, order_side

SEES_PROFILE = {**logged_in(200), "other_producer": 404}
EDITS = {**logged_in(403), "producer": 303, "coordinator": 303, "admin": 303, "other_producer": 404}
DIRECTORY = {**logged_in(200), "producer": 403, "other_producer": 403}
ASKS = {**logged_in(403), "customer": 303, "other_customer": 303, "other_producer": 404}


def _api(expected: dict, ok=None, anon=401) -> dict:
    """A page's expectations for the API: 401 for anon; the page's redirect is the API's `ok`."""
    return {role: (anon if role == "anon" else (ok if ok and status in (302, 303) else status))
            for role, status in expected.items()}


def _enquiry(world, product=None) -> int:
    """A fresh enquiry from the world's buyer to the farm."""
    buyer = db.session.get(User, world.users["customer"])
    farm = db.session.get(Organization, world.orgs["farm"])
    enquiry = services.create_enquiry(buyer, farm, {"body": "Rice for March?", "product": product or "rice"})
    db.session.commit()
    return enquiry.id


def _listed(world) -> str:
    product = f"Matrix rice {uuid.uuid4().hex[:6]}"
    _enquiry(world, product)
    return product


FARM = lambda w: f"/profiles/{w.orgs['farm']}"  # noqa: E731
PROFILE = {"description": "Rice", "p0_name": "Rice", "p0_unit": "kg", "p0_capacity": "100"}
ENQUIRY = {"body": "Can you ship 5 t?", "product": "rice", "quantity": "5000", "unit": "kg"}

# The rice cluster's own profile: seen by the directory's users, edited by its coordinator and admins.
SEES_CLUSTER = {**logged_in(200), "producer": 404, "other_producer": 404}
EDITS_CLUSTER = {**logged_in(403), "coordinator": 303, "admin": 303, "producer": 404, "other_producer": 404}
RICE = lambda w: f"/clusters/{w.clusters['rice']}/profile"  # noqa: E731
CLUSTER_PROFILE = {"description": "Rice farmers of Takeo", "contact_name": "Dara", "export_markets": "TH"}

ROUTES = {
    "profiles.cluster_edit": Row("POST", lambda w: f"{RICE(w)}/edit", EDITS_CLUSTER, form(CLUSTER_PROFILE)),
    "api.cluster_profile_read": Row("GET", lambda w: f"/api/v1{RICE(w)}", _api(SEES_CLUSTER)),
    "api.cluster_profile_save": Row("PUT", lambda w: f"/api/v1{RICE(w)}", _api(EDITS_CLUSTER, ok=200),
                                    as_json({"description": "Rice farmers", "export_markets": ["TH"]})),
    "profiles.mine": Row("GET", "/profiles/mine", logged_in(302)),
    "profiles.profile": Row("GET", FARM, SEES_PROFILE),
    "profiles.edit": Row("POST", lambda w: f"{FARM(w)}/edit", EDITS, form(PROFILE)),
    "profiles.directory": Row("GET", "/directory", DIRECTORY),
    "profiles.new_enquiry": Row("POST", lambda w: f"{FARM(w)}/enquiries", ASKS, form(ENQUIRY)),
    "profiles.enquiries": Row("GET", "/enquiries", logged_in(200), shows=(_listed, ON_ORDER)),
    "profiles.enquiry": Row("GET", lambda w: f"/enquiries/{_enquiry(w)}", order_side(200)),
    "profiles.reply": Row("POST", lambda w: f"/enquiries/{_enquiry(w)}/messages", order_side(303),
                          form({"body": "Yes."})),
    "api.profile_read": Row("GET", lambda w: f"/api/v1{FARM(w)}", _api(SEES_PROFILE)),
    "api.profile_save": Row("PUT", lambda w: f"/api/v1{FARM(w)}", _api(EDITS, ok=200),
                            as_json({"description": "Rice", "products": [{"name": "Rice"}]})),
    "api.profile_certificate": Row("POST", lambda w: f"/api/v1{FARM(w)}/certificates", _api(EDITS, ok=201),
                                   multipart(lambda w: {"file": (io.BytesIO(sample_pdf()), "cert.pdf")})),
    "api.directory_search": Row("GET", "/api/v1/directory", _api(DIRECTORY)),
    "api.enquiries_list": Row("GET", "/api/v1/enquiries", _api(logged_in(200)), shows=(_listed, ON_ORDER)),
    "api.enquiries_create": Row("POST", lambda w: f"/api/v1{FARM(w)}/enquiries", _api(ASKS, ok=201),
                                as_json(ENQUIRY)),
    "api.enquiries_read": Row("GET", lambda w: f"/api/v1/enquiries/{_enquiry(w)}", _api(order_side(200))),
    "api.enquiries_reply": Row("POST", lambda w: f"/api/v1/enquiries/{_enquiry(w)}/messages",
                               _api(order_side(201)), as_json({"body": "Yes."})),
}

UNIFORM = {
    "profiles.mine": "a redirect for everyone: producers to their own profile, the others to the "
                     "directory (whose own row checks who may open it)",
}
