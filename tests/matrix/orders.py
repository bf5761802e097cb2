"""Order routes (pages, API, tracking links, photos).

The world's order is SEC-WRLD01 (Takeo Rice Coop -> Bangkok Buyer, rice cluster): producer and
customer are its two sides, coordinator coordinates its cluster; other_producer (silk's weaver),
other_customer (Saigon Buyer) and other_coordinator (silk) are outsiders. A row that changes an order's state acts on a fresh order or record (tests.factories,
matrix_*), made once per row and role, so the rows do not depend on each other's order.
"""
import io

from tests.factories import (
    jpeg_bytes,
    signature_png,
    matrix_link,
    matrix_order,
    matrix_photo,
    matrix_preview,
    matrix_update,
    saver_pictures,
)

from .common import (  # noqa: F401
    ON_ORDER,
    Row,
    api,
    as_json,
    customer_side,
    everyone,
    form,
    logged_in,
    multipart,
    order_side,
    producer_side,
    staff_only,
)

REF = "SEC-WRLD01"
OUTSIDERS_422 = {"other_producer": 422, "other_customer": 422, "other_coordinator": 422}


def _fresh_order(suffix):
    return lambda w: f"/orders/{matrix_order(w)}{suffix}"


def _fresh_api_order(suffix):
    return lambda w: f"/api/v1/orders/{matrix_order(w)}{suffix}"


def _awaiting(w):
    matrix_update(w)  # one update on the world order waits for the customer
    return "/orders/awaiting"


def _track(suffix="", fresh_order=False):
    def url(w):
        reference = matrix_order(w) if fresh_order else REF
        return f"/t/{matrix_link(w, reference=reference)[1]}{suffix}"
    return url


def _track_photo(w):
    _link_id, token = matrix_link(w)
    return f"/t/{token}/photos/{matrix_photo(w)}"


DISPATCHED = {"status": "dispatched", "note": "Left the warehouse"}
RECEIVED = {"received_quantity": "100", "condition": "good"}


def _signed(_w):
    """A delivery with its proof: the receiver's name and a signature drawn on a screen."""
    return {**RECEIVED, "receiver_name": "Nok", "proof": "signature",
            "signature": (io.BytesIO(signature_png()), "signature.png")}
NEW_ORDER = {"product": "Jasmine rice", "quantity": "100", "unit": "kg", "origin": "Takeo",
             "destination": "Bangkok"}

ROUTES = {
    "orders.index": Row("GET", "/orders", logged_in(200), shows=(REF, ON_ORDER)),
    "orders.awaiting": Row("GET", _awaiting, logged_in(200), shows=(REF, ON_ORDER)),
    "orders.new": ("GET", "/orders/new", logged_in(200), None),
    "orders.detail": ("GET", f"/orders/{REF}", order_side(200), None),
    # A status (not a note): only the producer side reports one.
    "orders.post_update": ("POST", _fresh_order("/updates"), producer_side(303), DISPATCHED),
    "orders.confirm": (
        "POST", lambda w: f"/orders/{REF}/updates/{matrix_update(w)}/confirm", customer_side(303), None,
    ),
    # Confirming all at once: the ids are in the body, so an update an outsider may not see is
    # an unknown update (422), the same answer as one that does not exist.
    "orders.confirm_all": (
        "POST", "/orders/awaiting/confirm", {**customer_side(303), **OUTSIDERS_422},
        form(lambda w: {"update_ids": str(matrix_update(w))}),
    ),
    "orders.delivery": ("POST", _fresh_order("/delivery"), customer_side(303), multipart(_signed)),
    "orders.links": ("GET", f"/orders/{REF}/links", order_side(200), None),
    # The producer wrote the update: only its author (or an admin) may correct it.
    "orders.correct": (
        "GET", lambda w: f"/orders/{REF}/correct/{matrix_update(w)}",
        order_side(200, customer=403, coordinator=403), None,
    ),
    "orders.create_link": ("POST", f"/orders/{REF}/links", order_side(201), {"contact_name": "Clerk"}),
    "orders.revoke_link": (
        "POST", lambda w: f"/orders/{REF}/links/{matrix_link(w)[0]}/revoke", order_side(303), None,
    ),
    # Tracking links: the token is the credential, whoever is logged in.
    "orders.track": ("GET", _track(), everyone(200), None),
    "orders.track_receipt": (
        "POST", _track("/receipt", fresh_order=True), everyone(303), multipart(_signed),
    ),
    "orders.track_problem": (
        "POST", _track("/problem"), everyone(303), {"category": "quality", "title": "Six bags wet"},
    ),
    "orders.track_photo": ("GET", _track_photo, everyone(200), None),
    # QR labels: printed by the producer's side (the customer may see the order, not print: 403).
    "orders.labels_form": ("GET", f"/orders/{REF}/labels", producer_side(200), None),
    "orders.labels_pdf": ("GET", f"/orders/{REF}/labels.pdf?packages=2&per_package=1", producer_side(200), None),
    # A scanned label: whoever may see the order is sent to it; anyone else gets what a wrong
    # code gets (sign in, or 404 when signed in).
    "orders.label": ("GET", f"/l/{REF}", order_side(302), None),
    "orders.scan": ("GET", "/scan", everyone(200), None),
    "attachments.photo": ("GET", lambda w: f"/attachments/{matrix_photo(w)}", order_side(200), None),
    "attachments.thumb": (
        "GET", lambda w: f"/attachments/{matrix_photo(w)}/thumb", order_side(200), None,
    ),
    "api.orders_list": Row("GET", "/api/v1/orders", api(200), shows=(REF, ON_ORDER)),
    # The producer is named as silk's weaver: rice's coordinator may not choose it (422), silk's
    # may; a producer or a customer sells or buys as its own organization; admin may choose anyone.
    "api.orders_create": (
        "POST", "/api/v1/orders", {**api(201), "coordinator": 422},
        as_json(lambda w: {**NEW_ORDER, "producer_org_id": w.orgs["weaver"],
                           "customer_org_id": w.orgs["buyer"]}),
    ),
    "api.orders_read": ("GET", f"/api/v1/orders/{REF}", order_side(200, anon=401), None),
    "api.updates_create": (
        "POST", _fresh_api_order("/updates"), producer_side(201, anon=401), as_json(DISPATCHED),
    ),
    "api.updates_confirm": (
        "POST", lambda w: f"/api/v1/updates/{matrix_update(w)}/confirm",
        customer_side(200, anon=401), as_json({"comment": "Seen it"}),
    ),
    "api.updates_confirm_all": (
        "POST", "/api/v1/updates/confirm", {**customer_side(200, anon=401), **OUTSIDERS_422},
        as_json(lambda w: {"update_ids": [matrix_update(w)]}),
    ),
    "api.phrases_list": ("GET", "/api/v1/phrases", api(200), None),
    "api.delivery_create": (
        "POST", _fresh_api_order("/delivery"), customer_side(201, anon=401), multipart(_signed),
    ),
    # The handover code: the producer's side shows it; the customer types it, never reads it.
    "api.handover_code_read": (
        "GET", f"/api/v1/orders/{REF}/handover-code", producer_side(200, anon=401), None,
    ),
    "api.links_create": (
        "POST", f"/api/v1/orders/{REF}/links", order_side(201, anon=401),
        as_json({"contact_name": "Warehouse clerk"}),
    ),
    "api.links_revoke": (
        "DELETE", lambda w: f"/api/v1/orders/{REF}/links/{matrix_link(w)[0]}",
        order_side(200, anon=401), None,
    ),
    "api.labels_pdf": (
        "GET", f"/api/v1/orders/{REF}/labels.pdf?packages=30&per_package=2",
        producer_side(200, anon=401), None,
    ),
    "api.attachments_create": (
        "POST", "/api/v1/attachments", api(201),
        multipart(lambda w: {"file": (io.BytesIO(jpeg_bytes()), "photo.jpg")}),
    ),
    # The data saver: only the preview's uploader sends its full photo; any party of the order
    # asks for it; the rest never learn the photo exists.
    "attachments.full_photo": (
        "POST", lambda w: f"/photos/{matrix_preview(w)[1]}/full",
        {**logged_in(404), "producer": 200},
        multipart(lambda w: {"photo": (io.BytesIO(saver_pictures()[1]), "full.jpg")}),
    ),
    "api.photo_full": (
        "POST", lambda w: f"/api/v1/photos/{matrix_preview(w)[1]}/full",
        {**api(404), "producer": 200},
        multipart(lambda w: {"photo": (io.BytesIO(saver_pictures()[1]), "full.jpg")}),
    ),
    "attachments.want_full": (
        "POST", lambda w: f"/attachments/{matrix_preview(w)[0]}/want", order_side(303), None,
    ),
    "api.photo_want": (
        "POST", lambda w: f"/api/v1/attachments/{matrix_preview(w)[0]}/want",
        {**order_side(200, anon=401)}, None,
    ),
    "attachments.wanted": ("GET", "/photos/wanted?keys=x", logged_in(200), None),
    "api.photos_wanted": ("GET", "/api/v1/photos/wanted?keys=x", api(200), None),
}

TRACKING = "the tracking-link token in the URL is the credential, not the session"
UNIFORM = {
    "attachments.wanted": "each caller hears only of their own previews (tests/test_data_saver.py)",
    "api.photos_wanted": "each caller hears only of their own previews (tests/test_data_saver.py)",
    "orders.new": "every role may create an order (from its own side; tested on api.orders_create)",
    "orders.track": TRACKING,
    "orders.track_receipt": TRACKING,
    "orders.track_problem": TRACKING,
    "orders.track_photo": TRACKING,
    "api.phrases_list": "the quick phrases are the same words for everyone",
    "orders.scan": "the scanner page holds no data (a tracking-link holder scans there too): what "
                   "a scanned label opens is decided by orders.label",
    "api.attachments_create": "anyone logged in may upload a photo; only its uploader sees it "
                              "until it is attached to an order (attachments.photo checks that)",
}
