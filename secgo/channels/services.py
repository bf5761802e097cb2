"""Telegram and SMS channel rules, shared by the settings page, the API, the bot's webhook
and the worker; callers commit (the write pipeline does)."""
import hashlib
import hmac
import secrets
from datetime import timedelta

import phonenumbers
import requests
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..errors import ApiError
from ..extensions import db
from ..limits import LIMITS
from ..models import CHANNELS, ChannelLink, User, hash_token, utcnow
from . import clients

PHONE_MAX = LIMITS["phone"]  # characters typed ("+855 12 345 678", with spaces or dashes)
CODE_ATTEMPTS = 5  # wrong codes before a new one must be sent
BAD_PHONE = _l("This is not a phone number we can send text messages to. Type it with its country code, e.g. +855 12 345 678.")
BAD_CODE = _l("That code is not right. Check the last text message from SEC GO! and try again.")
OLD_CODE = _l("That code has expired or was tried too often. Send a new code.")
NOT_SENT = _l("The text message could not be sent just now. Try again in a few minutes.")
NO_CHANNEL = _l("This kind of notification is not set up on this server.")
NOT_LINKED = _l("Link this channel first.")
NOT_BOOLEAN = _l("Say true or false.")


def available(user=None) -> tuple[str, ...]:
    """The channels this server can send through (their credentials are set)."""
    return tuple(c for c in CHANNELS if clients.configured(c))


def get_link(user, channel: str) -> ChannelLink | None:
    """The person's row for a channel, if any."""
    return db.session.scalar(
        select(ChannelLink).where(ChannelLink.user_id == user.id, ChannelLink.channel == channel))


def links(user) -> dict:
    """channel -> the person's row (or None), for each channel this server has; one query."""
    rows = {row.channel: row for row in db.session.scalars(
        select(ChannelLink).where(ChannelLink.user_id == user.id))}
    return {c: rows.get(c) for c in available()}


def _require(channel: str) -> None:
    if channel not in CHANNELS or not clients.configured(channel):
        raise ApiError(404, NO_CHANNEL)


def _row(user, channel: str) -> ChannelLink:
    row = get_link(user, channel)
    if row is None:
        row = ChannelLink(user_id=user.id, channel=channel, enabled=True, attempts=0)
        db.session.add(row)
    return row


def to_dict(channel: str, row: ChannelLink | None) -> dict:
    """A channel as the API shows it (never a secret; a number as the person typed it, E.164)."""
    return {
        "channel": channel,
        "linked": bool(row and row.address),
        "enabled": bool(row and row.address and row.enabled),
        "address": (row.address if row and channel == "sms" else None),
        "pending": (row.pending if row and channel == "sms" else None),
        "confirmed_at": row.confirmed_at.isoformat() if row and row.confirmed_at else None,
    }


def set_enabled(user, channel: str, enabled: bool) -> ChannelLink:
    """Turn a linked channel on or off (it stays linked)."""
    _require(channel)
    row = get_link(user, channel)
    if row is None or not row.address:
        raise ApiError(409, NOT_LINKED, code="not_linked")
    row.enabled = bool(enabled)
    db.session.flush()
    return row


def unlink(user, channel: str) -> bool:
    """Forget the chat or number; nothing more goes there. False when nothing was linked."""
    if channel not in CHANNELS:
        raise ApiError(404)
    row = get_link(user, channel)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


# --- Telegram --------------------------------------------------------------------------------

def telegram_start(user) -> tuple[ChannelLink, str, str]:
    """A one-time, expiring start token: (row, token, https://t.me/<bot>?start=<token>).

    Only its hash is stored; a new one replaces the last. The chat is linked when the person
    opens the link and the bot receives /start <token> (webhook)."""
    _require("telegram")
    row = _row(user, "telegram")
    token = secrets.token_urlsafe(24)  # 32 characters of A-Z a-z 0-9 _ -: a valid start parameter
    row.secret_hash = hash_token(token)
    row.secret_expires_at = utcnow() + timedelta(
        minutes=current_app.config["TELEGRAM_LINK_TTL_MINUTES"])
    db.session.flush()
    bot = current_app.config["TELEGRAM_BOT_USERNAME"].lstrip("@")
    return row, token, f"https://t.me/{bot}?start={token}"


def telegram_link_chat(token: str, chat_id: int) -> User | None:
    """/start <token> from a private chat: link it to the token's owner; None when the token
    is unknown, used or expired."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        return None
    row = db.session.scalar(select(ChannelLink).where(
        ChannelLink.channel == "telegram", ChannelLink.secret_hash == hash_token(token)))
    if row is None or row.secret_expires_at is None or row.secret_expires_at < utcnow():
        return None
    user = row.user
    if not user.active:
        return None
    row.address, row.enabled, row.confirmed_at = str(chat_id), True, utcnow()
    row.secret_hash = row.secret_expires_at = None
    db.session.flush()
    return user


def telegram_unlink_chat(chat_id: int) -> list[User]:
    """/stop, or the bot blocked: every account linked to the chat is unlinked."""
    rows = db.session.scalars(select(ChannelLink).where(
        ChannelLink.channel == "telegram", ChannelLink.address == str(chat_id))).all()
    users = [row.user for row in rows]
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return users


def gone(channel: str, address: str) -> None:
    """The provider says the address is gone (Telegram 403): stop sending there."""
    db.session.execute(
        update(ChannelLink).where(ChannelLink.channel == channel, ChannelLink.address == address)
        .values(address=None, enabled=False, confirmed_at=None)
        .execution_options(synchronize_session=False))


# --- SMS -------------------------------------------------------------------------------------

def region_of(user) -> str | None:
    """The country numbers are read in when typed without +country code."""
    org = user.organization
    return org.country if org is not None and org.country else None


def parse_phone(raw, region: str | None) -> str:
    """A typed phone number as E.164 (+85512345678), or a localised refusal."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > PHONE_MAX:
        raise ApiError(422, fields={"phone": BAD_PHONE})
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        raise ApiError(422, fields={"phone": BAD_PHONE}) from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) in (
            phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.TOLL_FREE,
            phonenumbers.PhoneNumberType.PREMIUM_RATE):
        raise ApiError(422, fields={"phone": BAD_PHONE})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def shown_number(e164: str | None) -> str:
    """A stored number as people read it (+855 12 345 678)."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def _code_hash(user_id: int, number: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"sms-code:{user_id}:{number}:{code}".encode(), hashlib.sha256).hexdigest()


def code_text(code: str) -> str:
    """The text message that carries a confirmation code, in the current language."""
    return _("SEC GO! code: %(code)s. Type it on the settings page to get notifications by text message.", code=code)


def sms_code_call(user, raw, key: str | None):
    """Check the number, and return the call that texts it a 6-digit code confirming it is
    the person's, made with no transaction open (secgo.writes: `Write.outside`). It returns
    (number, code) once the gateway took the message; a refusal (422) writes nothing.

    The code follows from the request's key, so a request sent twice at once (the outbox
    retrying a slow answer) texts the same code twice, never one that does not work."""
    _require("sms")
    number = parse_phone(raw, region_of(user))
    if key is None:
        code = f"{secrets.randbelow(10**6):06d}"
    else:
        mac = hmac.new(current_app.config["SECRET_KEY"].encode(),
                       f"sms-code-of:{user.id}:{number}:{key}".encode(), hashlib.sha256)
        code = f"{int.from_bytes(mac.digest()[:8], 'big') % 10**6:06d}"
    with force_locale(user.locale or "en"):
        text = code_text(code)

    def call():
        with requests.Session() as http:
            outcome = clients.sms_send(http, number, text)
        if outcome.kind != "sent":
            current_app.logger.warning("SMS code not sent: %s", outcome.error)
            raise ApiError(422, fields={"phone": NOT_SENT})
        return number, code

    return call


def sms_store_code(user, sent) -> ChannelLink:
    """The code just texted (sms_code_call) waits to be typed back.

    The number already confirmed keeps getting messages until the new one is confirmed."""
    number, code = sent
    row = _row(user, "sms")
    row.pending, row.attempts = number, 0
    row.secret_hash = _code_hash(user.id, number, code)
    row.secret_expires_at = utcnow() + timedelta(minutes=current_app.config["SMS_CODE_TTL_MINUTES"])
    db.session.flush()
    return row


def sms_confirm(user, code) -> ChannelLink:
    """The code typed back: the pending number becomes where text messages go.

    A wrong code counts; after CODE_ATTEMPTS a new code must be sent."""
    _require("sms")
    row = get_link(user, "sms")
    if row is None or not row.pending or row.secret_hash is None:
        raise ApiError(409, OLD_CODE, fields={"code": OLD_CODE}, code="no_code")
    code = str(code or "").strip()
    if row.attempts >= CODE_ATTEMPTS or row.secret_expires_at is None or row.secret_expires_at < utcnow():
        raise ApiError(422, fields={"code": OLD_CODE})
    if not (len(code) == 6 and code.isascii() and code.isdigit()) or not hmac.compare_digest(
            row.secret_hash, _code_hash(user.id, row.pending, code)):
        # The wrong guess is counted in its own transaction: the refusal rolls back the rest.
        row_id = row.id
        db.session.rollback()
        db.session.execute(update(ChannelLink).where(ChannelLink.id == row_id)
                           .values(attempts=ChannelLink.attempts + 1))
        db.session.commit()
        raise ApiError(422, fields={"code": BAD_CODE})
    row.address, row.enabled, row.confirmed_at = row.pending, True, utcnow()
    row.pending = row.secret_hash = row.secret_expires_at = None
    row.attempts = 0
    db.session.flush()
    return row
