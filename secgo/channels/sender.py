"""The push worker's hand for Telegram and SMS: which channels a notification still owes, and
one send on each. Deliveries are written down before the request and settled after it, as
push deliveries are (push/worker.py), so a retry never sends to a channel twice.

Neither the Bot API nor the SMS gateway can tell a resend from a new message, except that the
gateway is given the same message id again. A worker killed mid-send leaves a delivery "in
doubt": it is sent again once its lease runs out (at least once, never lost) — quietly on
Telegram (disable_notification), with the same id to the SMS gateway.
"""
from sqlalchemy import select

from ..extensions import db
from ..models import ChannelDelivery, ChannelLink
from . import clients, services, text

SENDING = "sending"


def plan(notification, user, recorded: dict) -> list[dict]:
    """The channels this notification still owes its recipient, with what to send each."""
    if not user.active:
        return []
    ready = [c for c in ("telegram", "sms") if clients.configured(c)]
    if not ready:
        return []
    rows = db.session.scalars(select(ChannelLink).where(
        ChannelLink.user_id == user.id, ChannelLink.channel.in_(ready),
        ChannelLink.enabled.is_(True), ChannelLink.address.is_not(None),
    ).order_by(ChannelLink.channel)).all()
    steps = []
    for row in rows:
        state = recorded.get(row.channel)
        if state not in (None, SENDING):
            continue
        in_doubt = state == SENDING
        if row.channel == "telegram":
            message = {"chat_id": int(row.address),
                       **text.telegram_message(notification, user, quiet=in_doubt)}
        else:
            message = {"text": text.sms_text(notification, user),
                       "id": f"secgo-n{notification.id}"}
        steps.append({"channel": row.channel, "address": row.address, "in_doubt": in_doubt,
                      "message": message})
    return steps


def recorded(nid: int) -> dict:
    """channel -> state of this notification's channel deliveries."""
    return dict(db.session.execute(
        select(ChannelDelivery.channel, ChannelDelivery.state)
        .where(ChannelDelivery.notification_id == nid)).all())


def send(http, step: dict):
    """One message on one channel; an Outcome."""
    if step["channel"] == "telegram":
        return clients.telegram_call(http, "sendMessage", step["message"])[0]
    message = step["message"]
    return clients.sms_send(http, step["address"], message["text"], message["id"])


def settle(nid: int, step: dict, outcome) -> None:
    """Write down what the provider said (the caller commits)."""
    row = db.session.scalar(select(ChannelDelivery).where(
        ChannelDelivery.notification_id == nid, ChannelDelivery.channel == step["channel"]))
    if outcome.kind == "gone":  # Telegram 403: the person blocked the bot; unlink the chat
        services.gone(step["channel"], step["address"])
        if row is not None:
            row.state, row.status_code = "failed", outcome.status
    elif outcome.kind in ("sent", "failed") and row is not None:
        row.state, row.status_code = outcome.kind, outcome.status
    elif row is not None and outcome.status is not None:
        db.session.delete(row)  # "not now": the provider did not take it; sent again later
    # (no answer at all: it may have been taken; stays in doubt, sent again quietly)
