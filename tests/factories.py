"""Builders for test data; every test world has the same names."""
from types import SimpleNamespace

from secgo.extensions import db
from secgo.models import Cluster, Organization, User

PASSWORD = "correct horse battery"


def make_user(username, role, org=None, clusters=(), locale="en", tz="Asia/Bangkok"):
    user = User(
        username=username, display_name=username.title(), role=role, organization=org,
        locale=locale, timezone=tz, active=True,
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


# --- records for the authorization matrix (tests/matrix) ------------------------------------
# Each call makes a fresh record on the world's order (SEC-WRLD01, farm -> buyer) or on a new
# order between the same two organizations, so that a row which changes state (a confirmation,
# a transition, a revocation, a delivery) leaves nothing behind that a later row depends on.
# They run in an app context and commit.

WORLD_ORDER = "SEC-WRLD01"


def _order(reference):
    from secgo.models import Order

    return db.session.scalar(db.select(Order).where(Order.reference == reference))


def _user(world, name):
    return db.session.get(User, world.users[name])


def matrix_order(world) -> str:
    """A new order farm -> buyer (the world order's two sides, rice cluster); its reference."""
    from tests.issue_factories import make_order

    order = make_order(world.orgs["farm"], world.orgs["buyer"])
    db.session.commit()
    return order.reference


def matrix_update(world, *, status="dispatched", author="producer", reference=WORLD_ORDER,
                  photos=()) -> int:
    """An unconfirmed status update by the producer on an order; its id."""
    from secgo.models import StatusUpdate, utcnow

    now = utcnow()
    update = StatusUpdate(order_id=_order(reference).id, status=status, note="",
                          author_id=world.users[author], recorded_at=now, occurred_at=now)
    update.photos = list(photos)
    db.session.add(update)
    db.session.commit()
    return update.id


def jpeg_bytes(size=(64, 48), colour=(40, 120, 60)) -> bytes:
    """A small real JPEG."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def signature_png(size=(600, 240)) -> bytes:
    """A signature as a signature pad draws it: a dark line on a transparent PNG."""
    import io

    from PIL import Image

    img = Image.new("RGBA", size, (255, 255, 255, 0))
    for x in range(40, size[0] - 40):
        img.putpixel((x, size[1] // 2 + (x % 17) - 8), (10, 10, 10, 255))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def matrix_photo(world, *, uploader="producer", reference=WORLD_ORDER) -> int:
    """A photo (stored on disk) that the producer attached to an update on the order; its id."""
    from secgo.attachments.services import save_photo

    photo = save_photo(_user(world, uploader), jpeg_bytes())
    matrix_update(world, author=uploader, reference=reference, photos=[photo])
    return photo.id


def saver_pictures() -> tuple[bytes, bytes]:
    """The same small picture twice, as the data saver sends it: (preview, full photo)."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 480), (40, 120, 60))
    ImageDraw.Draw(img).rectangle([100, 80, 400, 300], fill=(220, 40, 40))
    out = []
    for side in (320, 640):
        copy = img.copy()
        copy.thumbnail((side, side))
        buffer = io.BytesIO()
        copy.save(buffer, "JPEG")
        out.append(buffer.getvalue())
    return out[0], out[1]


def matrix_preview(world, *, uploader="producer", reference=WORLD_ORDER) -> tuple[int, str]:
    """A photo the producer sent as a preview with an update on the order; (id, its photo key)."""
    import uuid

    from secgo.attachments.saver import save_preview

    key = str(uuid.uuid4())
    photo = save_preview(_user(world, uploader), saver_pictures()[0], key)
    matrix_update(world, author=uploader, reference=reference, photos=[photo])
    return photo.id, key


def matrix_link(world, *, reference=WORLD_ORDER, creator="producer") -> tuple[int, str]:
    """A live tracking link on the order, made by its producer; (id, secret token)."""
    from secgo.orders.services import create_tracking_link

    link, token = create_tracking_link(_user(world, creator), _order(reference),
                                       {"contact_name": "Warehouse clerk"})
    db.session.commit()
    return link.id, token


def matrix_issue(world, *, reference=WORLD_ORDER, raised_by="customer") -> int:
    """A new open issue on the order, raised by the customer; its id."""
    from tests.issue_factories import raise_as

    issue = raise_as(raised_by, _order(reference), title="Six bags wet")
    db.session.commit()
    return issue.id


def push_subscription_json(host="fcm.googleapis.com") -> dict:
    """A browser's PushSubscription.toJSON() for a new device (real P-256 key, random secret)."""
    import base64
    import os
    import uuid

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def b64url(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"endpoint": f"https://{host}/fcm/send/matrix-{uuid.uuid4().hex}",
            "keys": {"p256dh": b64url(public), "auth": b64url(os.urandom(16))}}


def matrix_device(world, *, owner="producer") -> tuple[int, str]:
    """A push subscription (one device) of the owner; (id, endpoint)."""
    from secgo.models import PushSubscription

    body = push_subscription_json()
    sub = PushSubscription(user_id=world.users[owner], endpoint=body["endpoint"],
                           p256dh=body["keys"]["p256dh"], auth=body["keys"]["auth"],
                           events=[], failures=0)
    db.session.add(sub)
    db.session.commit()
    return sub.id, sub.endpoint


def matrix_invite(world, *, by="admin") -> str:
    """An unused invite link for a new producer of the farm; its secret token."""
    import uuid

    from secgo.auth.services import create_user, issue_link
    from secgo.models import Organization

    user = create_user(username=f"new-{uuid.uuid4().hex[:8]}", display_name="New Farmer",
                       role="producer", organization=db.session.get(Organization, world.orgs["farm"]))
    token = issue_link(user, "invite", _user(world, by))
    db.session.commit()
    return token


def pdf_bytes(title="COMMERCIAL INVOICE") -> bytes:
    """A small real PDF (pikepdf)."""
    from secgo.documents.sample import sample_pdf

    return sample_pdf([title])


def matrix_document(world, *, uploader="producer", reference=WORLD_ORDER, title=None) -> int:
    """A document (stored on disk) the producer attached to the order; its id. Each call is
    a new paper (its own text), so it is never the one already there."""
    import uuid

    from secgo.documents.services import save_document

    doc = save_document(_user(world, uploader), _order(reference),
                        pdf_bytes(title or f"INVOICE {uuid.uuid4().hex[:8]}"), "commercial_invoice")
    db.session.commit()
    return doc.id
