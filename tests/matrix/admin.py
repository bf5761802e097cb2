"""Admin routes: clusters (admins only); organizations and people (admins, and coordinators
within their onboarding reach: the world's coordinator reaches the farm and its producer,
silk's coordinator does not, and gets 404). Rows that change something act on a fresh record."""
import uuid

from secgo.extensions import db
from secgo.models import Cluster, Organization, User
from tests.factories import make_user

from .common import Row, form, logged_in

ADMIN_ONLY = {**logged_in(403), "admin": 200}
# Within reach of the rice cluster's coordinator (and the admin); 404 to silk's coordinator.
IN_REACH = {**logged_in(403), "admin": 303, "coordinator": 303, "other_coordinator": 404}


def _fresh_org(world, active=True) -> int:
    org = Organization(kind="producer", name=f"Matrix farm {uuid.uuid4().hex[:6]}", country="KH",
                       cluster=db.session.get(Cluster, world.clusters["rice"]), active=active)
    db.session.add(org)
    db.session.commit()
    return org.id


def _fresh_person(world, active=True, name=None) -> User:
    person = make_user(f"m-{uuid.uuid4().hex[:8]}", "producer",
                       db.session.get(Organization, world.orgs["farm"]))
    person.active = active
    if name:
        person.display_name = name
    db.session.commit()
    return person


def _person_url(suffix="", active=True):
    return lambda w: f"/admin/people/{_fresh_person(w, active).id}{suffix}"


def _org_url(suffix="", active=True):
    return lambda w: f"/admin/organizations/{_fresh_org(w, active)}{suffix}"


def _listed_person(world) -> str:
    return _fresh_person(world, name=f"Matrix Person {uuid.uuid4().hex[:6]}").display_name


CLUSTER = {"name": "Matrix cluster", "country": "KH", "province": "Takeo", "product": "rice"}
FARM = lambda w: {"name": "Takeo Rice Coop", "kind": "producer", "country": "KH",  # noqa: E731
                  "province": "Takeo", "cluster": str(w.clusters["rice"])}
PERSON = lambda w: {"display_name": "Someone", "role": "producer",  # noqa: E731
                    "organization": str(w.orgs["farm"]), "locale": "km",
                    "timezone": "Asia/Phnom_Penh", "email": "", "phone": ""}

ROUTES = {
    "admin.clusters": Row("GET", "/admin/clusters", ADMIN_ONLY),
    "admin.new_cluster": Row("POST", "/admin/clusters/new", {**ADMIN_ONLY, "admin": 303}, form(CLUSTER)),
    "admin.edit_cluster": Row("POST", lambda w: f"/admin/clusters/{w.clusters['rice']}",
                              {**ADMIN_ONLY, "admin": 303}, form({**CLUSTER, "name": "Takeo rice"})),
    "admin.organizations": Row("GET", "/admin/organizations",
                               {**logged_in(403), "admin": 200, "coordinator": 200, "other_coordinator": 200},
                               shows=("Takeo Rice Coop", ("coordinator", "admin"))),
    "admin.organization": Row("POST", lambda w: f"/admin/organizations/{w.orgs['farm']}", IN_REACH,
                              form(FARM)),
    "admin.deactivate_organization": Row("POST", _org_url("/deactivate"), IN_REACH),
    "admin.reactivate_organization": Row("POST", _org_url("/reactivate", active=False), IN_REACH),
    "admin.people": Row("GET", "/admin/people",
                        {**logged_in(403), "admin": 200, "coordinator": 200, "other_coordinator": 200},
                        shows=(_listed_person, ("coordinator", "admin"))),
    "admin.person": Row("POST", _person_url(), IN_REACH, form(PERSON)),
    "admin.deactivate_person": Row("POST", _person_url("/deactivate"), IN_REACH),
    "admin.reactivate_person": Row("POST", _person_url("/reactivate", active=False), IN_REACH),
}

UNIFORM = {}
