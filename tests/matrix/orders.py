"""Order routes (pages, API, tracking links, photos).

The order is the shared world's SEC-WRLD01 (Takeo Rice Coop -> Bangkok Buyer, rice cluster).
"""
from .common import api, everyone, logged_in, staff_only  # noqa: F401

REF = "SEC-WRLD01"
TOKEN = "not-a-real-tracking-token-0123456789"


def order_side(ok, producer=None, customer=None, coordinator=None, admin=None, anon=302):
    """Statuses for an action on the world's order: its two sides, its coordinator, admin, outsider."""
    return {
        "anon": anon, "producer": producer or ok, "customer": customer or ok,
        "coordinator": coordinator or ok, "admin": admin or ok, "other_producer": 404,
    }


ROUTES = {
    "orders.index": ("GET", "/orders", logged_in(200), None),
    "orders.awaiting": ("GET", "/orders/awaiting", logged_in(200), None),
    "orders.new": ("GET", "/orders/new", logged_in(200), None),
    "orders.detail": ("GET", f"/orders/{REF}", order_side(200), None),
    "orders.post_update": (
        "POST", f"/orders/{REF}/updates", order_side(303), {"status": "note", "note": "Hello"},
    ),
    # No update exists when this row runs (rows run in name order): 404 for everyone who may look.
    "orders.confirm": ("POST", f"/orders/{REF}/updates/999999/confirm", order_side(404), None),
    "orders.delivery": (
        "POST", f"/orders/{REF}/delivery", order_side(303, producer=403, coordinator=403),
        {"received_quantity": "100", "condition": "good"},
    ),
    "orders.links": ("GET", f"/orders/{REF}/links", order_side(200), None),
    "orders.correct": ("GET", f"/orders/{REF}/correct/999999", order_side(404), None),
    "orders.create_link": ("POST", f"/orders/{REF}/links", order_side(201), {"contact_name": "Clerk"}),
    "orders.revoke_link": ("POST", f"/orders/{REF}/links/999999/revoke", order_side(404), None),
    "orders.track": ("GET", f"/t/{TOKEN}", everyone(404), None),
    "orders.track_receipt": ("POST", f"/t/{TOKEN}/receipt", everyone(404), {"condition": "good"}),
    "orders.track_problem": ("POST", f"/t/{TOKEN}/problem", everyone(404), {"title": "x"}),
    "orders.track_photo": ("GET", f"/t/{TOKEN}/photos/1", everyone(404), None),
    "attachments.photo": ("GET", "/attachments/999999", logged_in(404), None),
    "attachments.thumb": ("GET", "/attachments/999999/thumb", logged_in(404), None),
    "api.orders_list": ("GET", "/api/v1/orders", api(200), None),
    "api.orders_create": ("POST", "/api/v1/orders", api(415), {"product": "x"}),
    "api.orders_read": ("GET", f"/api/v1/orders/{REF}", order_side(200, anon=401), None),
    "api.updates_create": (
        "POST", f"/api/v1/orders/{REF}/updates", order_side(415, anon=401), {"status": "note"},
    ),
    "api.updates_confirm": ("POST", "/api/v1/updates/999999/confirm", api(404), None),
    "api.delivery_create": (
        "POST", f"/api/v1/orders/{REF}/delivery", order_side(415, anon=401), {"condition": "good"},
    ),
    "api.links_create": (
        "POST", f"/api/v1/orders/{REF}/links", order_side(415, anon=401), {"contact_name": "x"},
    ),
    "api.links_revoke": ("DELETE", f"/api/v1/orders/{REF}/links/999999", order_side(404, anon=401), None),
    "api.attachments_create": ("POST", "/api/v1/attachments", api(422), None),
}
