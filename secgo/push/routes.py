"""The settings page's push endpoints: JSON for push.js, plain forms for the device list."""
from functools import partial

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from ..errors import ApiError, wants_json
from ..idempotency import new_client_id, request_key, run_once
from ..inputs import json_body
from ..notify import EVENT_LABELS
from ..web import done
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


@bp.post("/push/subscription")
@login_required
def save():
    """Turn notifications on for this device, or change its events (from push.js)."""
    body = json_body()
    user = current_user._get_current_object()

    def action():
        sub, created = services.save(user, body, request.headers.get("User-Agent", ""))
        return (201 if created else 200), {"subscription": services.to_dict(sub, user)}, None

    status, answer, _location = run_once(f"u{user.id}", request_key(), "push.save", body, action)
    return answer, status


@bp.post("/push/subscription/delete")
@login_required
def remove():
    """Turn notifications off for this device (from push.js, by its endpoint)."""
    body = json_body()
    user = current_user._get_current_object()

    def action():
        return 200, {"removed": services.remove(user, endpoint=body.get("endpoint"))}, None

    status, answer, _location = run_once(f"u{user.id}", request_key(), "push.remove", body, action)
    return answer, status


@bp.post("/push/devices/<int:sub_id>/delete")
@login_required
def remove_device(sub_id):
    """Stop notifications to one of my devices (a plain form on the settings page)."""
    user = current_user._get_current_object()

    def action():
        if not services.remove(user, subscription_id=sub_id):
            raise ApiError(404)
        return 200, {}, url_for("auth.settings", _anchor="push")

    status, _answer, location = run_once(
        f"u{user.id}", request_key(), "push.remove_device", {"id": sub_id}, action
    )
    if not wants_json():
        flash(_("That device will get no more notifications."), "success")
    return done(location, 200)
