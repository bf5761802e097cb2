"""Order routes (pages, API, tracking links, photos)."""
from .common import api, everyone, logged_in, staff_only  # noqa: F401

ROUTES = {
    "orders.index": ("GET", "/orders", logged_in(200), None),
}
