"""Telegram and SMS channel routes, the bot's webhook and the short link.

A channel is one person's own: the producer's (made fresh per row and role: a linked Telegram
chat, or a number waiting for its code) may be changed by the producer only; everyone else
acts on their own, unlinked channel (409: nothing to pause; 404: nothing to unlink).
"""
from sqlalchemy import delete

from secgo.extensions import db
from secgo.models import ChannelLink, Notification, Order, utcnow

from tests.factories import WORLD_ORDER

from .common import Row, api, as_json, everyone, form, logged_in, order_side, owner_only  # noqa: F401


def _telegram(w):
    """The producer's Telegram chat, linked afresh."""
    uid = w.users["producer"]
    db.session.execute(delete(ChannelLink).where(ChannelLink.user_id == uid,
                                                 ChannelLink.channel == "telegram"))
    db.session.add(ChannelLink(user_id=uid, channel="telegram", address="4242", enabled=True,
                               confirmed_at=utcnow(), attempts=0))
    db.session.commit()


def _code(w) -> str:
    """A number of the producer's waiting for its code; the code."""
    from datetime import timedelta

    from secgo.channels.services import _code_hash

    uid = w.users["producer"]
    db.session.execute(delete(ChannelLink).where(ChannelLink.user_id == uid,
                                                 ChannelLink.channel == "sms"))
    db.session.add(ChannelLink(user_id=uid, channel="sms", pending="+85512345678", enabled=True,
                               attempts=0, secret_hash=_code_hash(uid, "+85512345678", "123456"),
                               secret_expires_at=utcnow() + timedelta(minutes=10)))
    db.session.commit()
    return "123456"


def _short(w) -> str:
    """A text message's short link to the world's order, as its producer got it."""
    from secgo.channels.text import short_code

    order = db.session.scalar(db.select(Order).where(Order.reference == WORLD_ORDER))
    n = Notification(user_id=w.users["producer"], event="status_update", order_id=order.id,
                     params={}, url=f"/orders/{order.reference}")
    db.session.add(n)
    db.session.commit()
    return f"/n/{short_code(n.id)}"


def _then(make, path):
    def url(w):
        make(w)
        return path
    return url


ROUTES = {
    "channels.telegram_link": ("POST", "/settings/telegram/link", logged_in(201), None),
    "channels.toggle": ("POST", _then(_telegram, "/settings/channels/telegram/enabled"),
                        {**logged_in(409), "producer": 303}, form({"enabled": "0"})),
    "channels.unlink": ("POST", "/settings/channels/telegram/unlink", logged_in(303), None),
    # The number is checked, then the (closed) test gateway refuses to send the code: 422.
    "channels.sms_number": ("POST", "/settings/sms/number", logged_in(422),
                            form({"phone": "+85512345678"})),
    "channels.sms_confirm": ("POST", "/settings/sms/confirm", {**logged_in(409), "producer": 303},
                             form(lambda w: {"code": _code(w)})),
    "channels.short": ("GET", _short, order_side(303)),
    # Telegram's own call: the secret header, never a session, says who it is.
    "channels.telegram_webhook": ("POST", "/telegram/webhook", everyone(403),
                                  as_json({"update_id": 1, "message": {"chat": {"id": 1}, "text": "/stop"}})),
    "api.channels_list": ("GET", "/api/v1/channels", api(200), None),
    "api.channel_set": ("PATCH", _then(_telegram, "/api/v1/channels/telegram"),
                        {**api(409), "producer": 200}, as_json({"enabled": False})),
    "api.channel_unlink": ("DELETE", _then(_telegram, "/api/v1/channels/telegram"),
                           owner_only(204, anon=401), None),
    "api.telegram_link": ("POST", "/api/v1/channels/telegram/link", api(201), None),
    "api.sms_number": ("POST", "/api/v1/channels/sms/number", api(422),
                       as_json({"phone": "+85512345678"})),
    "api.sms_confirm": ("POST", "/api/v1/channels/sms/confirm", {**api(409), "producer": 200},
                        as_json(lambda w: {"code": _code(w)})),
}

OWN = "acts on the caller's own channels only"
UNIFORM = {
    "channels.telegram_link": OWN,
    "channels.unlink": OWN + " (nothing linked: nothing to do, said the same way)",
    "channels.sms_number": OWN + " (a code to the number typed)",
    "channels.telegram_webhook": "Telegram's call, authenticated by its secret header, not by a role",
    "api.channels_list": OWN,
    "api.telegram_link": OWN,
    "api.sms_number": OWN + " (a code to the number typed)",
}
