"""The settings page's push endpoints: JSON for push.js, plain forms for the device list."""
from functools import partial

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


# Pages that include templates/push/_settings.html (its devices' forms come back to it).
PANEL_PAGES = ("auth.settings",)


def settings_panel(user) -> dict:
    """What templates/push/_settings.html shows: the key, this user's events and devices."""
    return {
        "public_key": load_keys().application_server_key,
        "events": [(code, EVENT_LABELS[code]) for code in services.role_events(user)],
        "devices": [(sub, services.device_name(sub.user_agent)) for sub in services.devices(user)],
        "csrf": generate_csrf(),
        "client_id": new_client_id(),
    }


@bp.app_context_processor
def _push_panel() -> dict:
    """push_panel() on the pages that show the panel only: no keys or queries for other pages."""
    if request.endpoint in PANEL_PAGES and current_user.is_authenticated:
        return {"push_panel": partial(settings_panel, current_user._get_current_object())}
    return {}


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
