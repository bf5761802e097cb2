"""Builders for test data; every test world has the same names."""
from types import SimpleNamespace

from secgo.extensions import db
from secgo.models import Cluster, Organization, User

PASSWORD = "correct horse battery"


def make_user(username, role, org=None, clusters=(), locale="en", tz="Asia/Bangkok"):
    user = User(
        username=username, display_name=username.title(), role=role, organization=org,
        locale=locale, timezone=tz, active=True, session_epoch=0,
    )
    user.set_password(PASSWORD)
    user.clusters = list(clusters)
    db.session.add(user)
    return user


def build_world():
    """Create clusters, organizations and users; return their ids by name."""
    rice = Cluster(name="Takeo organic rice", country="KH", province="Takeo", product="rice")
    silk = Cluster(name="Vientiane silk", country="LA", province="Vientiane", product="silk")
    farm = Organization(kind="producer", name="Takeo Rice Coop", country="KH", cluster=rice)
    weaver = Organization(kind="producer", name="Lao Silk Weavers", country="LA", cluster=silk)
    buyer = Organization(kind="customer", name="Bangkok Buyer", country="TH")
    other_buyer = Organization(kind="customer", name="Saigon Buyer", country="VN")
    db.session.add_all([rice, silk, farm, weaver, buyer, other_buyer])
    users = {
        "producer": make_user("producer", "producer", farm),
        "customer": make_user("customer", "customer", buyer),
        "coordinator": make_user("coordinator", "coordinator", clusters=[rice]),
        "admin": make_user("admin", "admin"),
        "other_producer": make_user("other_producer", "producer", weaver),
        "other_customer": make_user("other_customer", "customer", other_buyer),
        "other_coordinator": make_user("other_coordinator", "coordinator", clusters=[silk]),
    }
    db.session.commit()
    world = SimpleNamespace(
        clusters={"rice": rice.id, "silk": silk.id},
        orgs={"farm": farm.id, "weaver": weaver.id, "buyer": buyer.id, "other_buyer": other_buyer.id},
        users={name: u.id for name, u in users.items()},
    )
    from tests.issue_factories import add_issue_world  # one order with one issue (world.issue)

    return add_issue_world(world)
