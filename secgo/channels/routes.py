"""Settings-page forms for Telegram and SMS, and the short link /n/<code>. Views are thin."""
import segno
from flask import current_app, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .. import authz
from ..errors import ApiError
from ..extensions import db, limiter
from ..idempotency import new_client_id
from ..ids import is_id
from ..models import Issue, Notification, Order
from ..push.payload import safe_path
from ..writes import Write, submit
from . import bp, services
from .text import parse_short_code

SETTINGS = "auth.settings"


def _me() -> str:
    """The rate-limit key: the person (pages and API share it)."""
    return f"channels:{current_user.id}" if current_user.is_authenticated else "channels:anon"


# Each code is a text message someone pays for, to a number anyone could type.
code_limit = limiter.shared_limit("5 per hour;10 per day", scope="sms-code", key_func=_me)
confirm_limit = limiter.shared_limit("20 per hour", scope="sms-confirm", key_func=_me)
link_limit = limiter.shared_limit("10 per hour", scope="telegram-link", key_func=_me)


def settings_panel(user) -> dict:
    """What templates/channels/_settings.html shows: each channel this server has, and the
    person's row for it (one query); nothing when no channel is set up."""
    rows = services.links(user)
    return {"channels": rows, "client_id": new_client_id(),
            "sms_number": services.shown_number(rows["sms"].address) if rows.get("sms") else "",
            "sms_pending": services.shown_number(rows["sms"].pending) if rows.get("sms") else ""}


def _back(anchor):
    return url_for(SETTINGS, _anchor=anchor)


def _refused(refusal, *args):
    """A refused channel form: the settings page again, with the message by the form."""
    from ..auth.routes import settings_page

    return settings_page(channel_errors=refusal.errors or {"form": refusal.message},
                         channel_values=refusal.values, status=refusal.status)


def _telegram_link(posted, user):
    row, token, link = services.telegram_start(user)
    return 201, {"expires_at": row.secret_expires_at.isoformat()}, _back("telegram"), {"link": link}


def _telegram_link_page(created, user):
    qr = segno.make(created["link"], error="m").svg_inline(scale=4, dark="#111", light="#fff",
                                                            omitsize=True)
    return render_template("channels/telegram_link.html", link=created["link"], qr=qr,
                           minutes=current_app.config["TELEGRAM_LINK_TTL_MINUTES"])


def _toggle(posted, user, channel):
    enabled = str(posted.data.get("enabled", "")).lower() in ("1", "true", "on", "yes")
    row = services.set_enabled(user, channel, enabled)
    return 200, services.to_dict(channel, row), _back(channel)


def _unlink(posted, user, channel):
    services.unlink(user, channel)
    return 200, services.to_dict(channel, None), _back(channel)


def _sms_code_call(posted, user):
    return services.sms_code_call(user, posted.data.get("phone"), posted.key)


def _sms_number(posted, user, sent):
    return 200, services.to_dict("sms", services.sms_store_code(user, sent)), _back("sms")


def _sms_confirm(posted, user):
    row = services.sms_confirm(user, posted.data.get("code"))
    return 200, services.to_dict("sms", row), _back("sms")


TELEGRAM_LINK = Write("channels.telegram_link", _telegram_link, refused=_refused,
                      shown_page=_telegram_link_page)
TOGGLE = Write("channels.toggle", _toggle, refused=_refused, flash=_l("Saved."))
UNLINK = Write("channels.unlink", _unlink, refused=_refused,
               flash=_l("Nothing more will be sent there."))
SMS_NUMBER = Write("channels.sms_number", _sms_number, refused=_refused, outside=_sms_code_call,
                   flash=_l("We sent a code by text message. Type it below."))
SMS_CONFIRM = Write("channels.sms_confirm", _sms_confirm, refused=_refused,
                    flash=_l("Your number is confirmed. Notifications will come by text message."))


@bp.post("/settings/telegram/link")
@login_required
@link_limit
def telegram_link():
    """Make a one-time link (and QR code) that connects my Telegram chat."""
    return submit(TELEGRAM_LINK, current_user._get_current_object())


@bp.post("/settings/channels/<channel>/enabled")
@login_required
def toggle(channel):
    """Turn Telegram or SMS notifications on or off (the chat or number stays linked)."""
    return submit(TOGGLE, current_user._get_current_object(), channel)


@bp.post("/settings/channels/<channel>/unlink")
@login_required
def unlink(channel):
    """Forget my Telegram chat or my SMS number."""
    return submit(UNLINK, current_user._get_current_object(), channel)


@bp.post("/settings/sms/number")
@login_required
@code_limit
def sms_number():
    """Text a 6-digit code to the number I typed."""
    return submit(SMS_NUMBER, current_user._get_current_object())


@bp.post("/settings/sms/confirm")
@login_required
@confirm_limit
def sms_confirm():
    """Confirm my number with the code it got."""
    return submit(SMS_CONFIRM, current_user._get_current_object())


@bp.get("/n/<code>")
@login_required
def short(code):
    """A text message's short link: to the order or issue, for those who may see it."""
    nid = parse_short_code(code)
    n = db.session.get(Notification, nid) if is_id(nid) else None
    if n is None:
        raise ApiError(404)
    if n.issue_id is not None:
        issue = db.session.get(Issue, n.issue_id)
        visible = issue is not None and db.session.scalar(
            db.select(Issue.id).where(Issue.id == issue.id, authz.visible_issues_clause(current_user)))
    elif n.order_id is not None:
        order = db.session.get(Order, n.order_id)
        visible = order is not None and authz.can_see_order(current_user, order)
    else:
        visible = n.user_id == current_user.id
    if not visible:
        raise ApiError(404)
    return redirect(safe_path(n.url), code=303)
