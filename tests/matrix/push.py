"""Push subscription routes.

A device is one user's own: the producer's device (tests.factories.matrix_device, fresh per row
and role) may be changed or removed by the producer only; everyone else gets 404, the same
answer as for a device that does not exist.
"""
from tests.factories import matrix_device, push_subscription_json

from .common import Row, api, as_json, everyone, logged_in, owner_only, staff_only  # noqa: F401


def _device(w):
    return matrix_device(w)[0]


def _listed(w):
    """The producer's device's endpoint: only the producer's own list shows it."""
    return matrix_device(w)[1]


ROUTES = {
    # The settings page's script sends the browser's subscription as JSON.
    "push.save": ("POST", "/push/subscription", logged_in(201),
                  as_json(lambda w: push_subscription_json())),
    # By endpoint: 200 for anyone (it tells nothing about others' devices), but only the
    # producer's answer is {"removed": true}: nobody else can switch off the producer's device.
    "push.remove": Row("POST", "/push/subscription/delete", logged_in(200),
                       as_json(lambda w: {"endpoint": matrix_device(w)[1]}),
                       shows=("true", ("producer",))),
    "push.remove_device": (
        "POST", lambda w: f"/push/devices/{_device(w)}/delete", owner_only(303), None,
    ),
    "api.push_key": ("GET", "/api/v1/push/key", api(200), None),
    "api.push_subscriptions": Row(
        "GET", "/api/v1/push/subscriptions", api(200), shows=(_listed, ("producer",)),
    ),
    "api.push_subscribe": ("POST", "/api/v1/push/subscriptions", api(201),
                           as_json(lambda w: push_subscription_json())),
    "api.push_unsubscribe": (
        "DELETE", lambda w: f"/api/v1/push/subscriptions/{_device(w)}", owner_only(204, anon=401),
        None,
    ),
}

OWN_DEVICE = "acts on the caller's own device only"
UNIFORM = {
    "push.save": OWN_DEVICE,
    "api.push_key": "the server's public key: the same for every user",
    "api.push_subscribe": OWN_DEVICE,
}
