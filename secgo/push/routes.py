"""The settings page's push endpoints: JSON for push.js, plain forms for the device list."""
from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from ..errors import ApiError
from ..idempotency import new_client_id
from ..notify import EVENT_LABELS
from ..writes import Write, submit
from . import bp, services
from .vapid import load_keys


def settings_panel(user) -> dict:
    """What templates/push/_settings.html shows: the key, this user's events and devices.

    The view of a page that includes the panel (the settings page) passes it to its template
    as `push_panel`: no other page loads keys or queries devices."""
    return {
        "public_key": load_keys().application_server_key,
        "events": [(code, EVENT_LABELS[code]) for code in services.role_events(user)],
        "devices": [(sub, services.device_name(sub.user_agent)) for sub in services.devices(user)],
        "csrf": generate_csrf(),
        "client_id": new_client_id(),
    }


def _save(posted, user):
    sub, created = services.save(user, posted.data, request.headers.get("User-Agent", ""))
    return (201 if created else 200), {"subscription": services.to_dict(sub, user)}, None


def _remove(posted, user):
    return 200, {"removed": services.remove(user, endpoint=posted.data.get("endpoint"))}, None


def _remove_device(posted, user, sub_id):
    if not services.remove(user, subscription_id=sub_id):
        raise ApiError(404)
    return 200, {}, url_for("auth.settings", _anchor="push")


SAVE = Write("push.save", _save, body="json")
REMOVE = Write("push.remove", _remove, body="json")
REMOVE_DEVICE = Write("push.remove_device", _remove_device,
                      flash=_l("That device will get no more notifications."))


@bp.post("/push/subscription")
@login_required
def save():
    """Turn notifications on for this device, or change its events (from push.js)."""
    return submit(SAVE, current_user._get_current_object())


@bp.post("/push/subscription/delete")
@login_required
def remove():
    """Turn notifications off for this device (from push.js, by its endpoint)."""
    return submit(REMOVE, current_user._get_current_object())


@bp.post("/push/devices/<int:sub_id>/delete")
@login_required
def remove_device(sub_id):
    """Stop notifications to one of my devices (a plain form on the settings page)."""
    return submit(REMOVE_DEVICE, current_user._get_current_object(), sub_id)
