"""Push subscription routes."""
from .common import api, everyone, logged_in, staff_only  # noqa: F401

ROUTES = {
    # The settings page's script sends JSON; an empty form body is a bad request.
    "push.save": ("POST", "/push/subscription", logged_in(400), None),
    "push.remove": ("POST", "/push/subscription/delete", logged_in(400), None),
    # Nobody's device 999999: the same 404 whether it exists for someone else or not.
    "push.remove_device": ("POST", "/push/devices/999999/delete", logged_in(404), None),
    "api.push_key": ("GET", "/api/v1/push/key", api(200), None),
    "api.push_subscriptions": ("GET", "/api/v1/push/subscriptions", api(200), None),
    "api.push_subscribe": ("POST", "/api/v1/push/subscriptions", api(400), None),
    "api.push_unsubscribe": ("DELETE", "/api/v1/push/subscriptions/999999", api(404), None),
}
