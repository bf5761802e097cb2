"""API v1: Telegram and SMS notification channels (the settings page's, for integrations).

Linking a Telegram chat needs the bot and a person's phone; confirming an SMS number needs the
code the number gets: both start and end here as on the settings page, through the same
services."""
from ..errors import ApiError
from ..models import CHANNELS
from ..channels import services
from ..channels.routes import code_limit, confirm_limit, link_limit
from ..limits import max_length
from ..writes import Write, submit
from . import bp
from .openapi import IDEMPOTENCY_PARAM, WRITE_ERRORS, error_responses, register, schema
from .routes import require_login

CHANNEL = schema("NotificationChannel", {
    "type": "object",
    "required": ["channel", "linked", "enabled"],
    "properties": {
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "linked": {"type": "boolean", "description": "A Telegram chat or a confirmed number is set."},
        "enabled": {"type": "boolean", "description": "Notifications go there now."},
        "address": {"type": ["string", "null"], "description": "The confirmed number (E.164); SMS only."},
        "pending": {"type": ["string", "null"], "description": "A number waiting for its code; SMS only."},
        "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
    },
})
CHANNEL_PARAM = {"name": "channel", "in": "path", "required": True,
                 "schema": {"type": "string", "enum": list(CHANNELS)}}


def _known(channel: str) -> str:
    if channel not in services.available():
        raise ApiError(404)
    return channel


@bp.get("/channels")
def channels_list():
    user = require_login()
    return {"channels": [services.to_dict(c, row) for c, row in services.links(user).items()]}


def _set(posted, user, channel):
    enabled = posted.data.get("enabled")
    if not isinstance(enabled, bool):
        raise ApiError(422, fields={"enabled": services.NOT_BOOLEAN})
    row = services.set_enabled(user, channel, enabled)
    return 200, services.to_dict(channel, row), None


def _unlink(posted, user, channel):
    if not services.unlink(user, channel):
        raise ApiError(404)
    return 204, {}, None


def _telegram_link(posted, user):
    row, _token, link = services.telegram_start(user)
    return 201, {"expires_at": row.secret_expires_at.isoformat()}, None, {"link": link}


def _sms_code_call(posted, user):
    return services.sms_code_call(user, posted.data.get("phone"), posted.key)


def _sms_number(posted, user, sent):
    return 200, services.to_dict("sms", services.sms_store_code(user, sent)), None


def _sms_confirm(posted, user):
    return 200, services.to_dict("sms", services.sms_confirm(user, posted.data.get("code"))), None


SET = Write("api.channel_set", _set, body="json")
UNLINK = Write("api.channel_unlink", _unlink, body=None)
TELEGRAM_LINK = Write("api.telegram_link", _telegram_link, body="json?")
SMS_NUMBER = Write("api.sms_number", _sms_number, body="json", outside=_sms_code_call)
SMS_CONFIRM = Write("api.sms_confirm", _sms_confirm, body="json")


@bp.patch("/channels/<channel>")
def channel_set(channel):
    return submit(SET, require_login(), _known(channel))


@bp.delete("/channels/<channel>")
def channel_unlink(channel):
    return submit(UNLINK, require_login(), _known(channel))


@bp.post("/channels/telegram/link")
@link_limit
def telegram_link():
    user = require_login()
    _known("telegram")
    return submit(TELEGRAM_LINK, user)


@bp.post("/channels/sms/number")
@code_limit
def sms_number():
    user = require_login()
    _known("sms")
    return submit(SMS_NUMBER, user)


@bp.post("/channels/sms/confirm")
@confirm_limit
def sms_confirm():
    user = require_login()
    _known("sms")
    return submit(SMS_CONFIRM, user)


def _one(description):
    return {"description": description,
            "content": {"application/json": {"schema": CHANNEL}}}


register("/channels", {"get": {
    "summary": "My Telegram and SMS notification channels (those this server has set up)",
    "responses": {
        "200": {"description": "The channels", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"channels": {"type": "array", "items": CHANNEL}}}}}},
        **error_responses(401),
    },
}})
register("/channels/{channel}", {
    "patch": {
        "summary": "Pause or resume a linked channel",
        "parameters": [CHANNEL_PARAM, IDEMPOTENCY_PARAM],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["enabled"],
            "properties": {"enabled": {"type": "boolean"}}}}}},
        "responses": {"200": _one("Saved"), **error_responses(*WRITE_ERRORS, 404)},
    },
    "delete": {
        "summary": "Unlink a Telegram chat or forget an SMS number",
        "parameters": [CHANNEL_PARAM, IDEMPOTENCY_PARAM],
        # 422: the Idempotency-Key was used for another channel (idempotency_key_mismatch)
        "responses": {"204": {"description": "Unlinked"}, **error_responses(400, 401, 404, 409, 422)},
    },
})
register("/channels/telegram/link", {"post": {
    "summary": "A one-time https://t.me/<bot>?start=<token> link that links the Telegram chat "
               "that opens it (shown once)",
    "parameters": [IDEMPOTENCY_PARAM],
    "responses": {
        "201": {"description": "The link", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"link": {"type": "string", "format": "uri"},
                                             "expires_at": {"type": "string", "format": "date-time"}}}}}},
        **error_responses(*WRITE_ERRORS, 404, 429),
    },
}})
register("/channels/sms/number", {"post": {
    "summary": "Text a 6-digit code to a phone number (it gets messages once confirmed)",
    "parameters": [IDEMPOTENCY_PARAM],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["phone"],
        "properties": {"phone": {"type": "string", **max_length("phone"),
                                 "description": "With its country code, or in the "
                                 "organization's country"}}}}}},
    "responses": {"200": _one("Code sent"), **error_responses(*WRITE_ERRORS, 404, 429)},
}})
register("/channels/sms/confirm", {"post": {
    "summary": "Confirm the number with the code it got",
    "parameters": [IDEMPOTENCY_PARAM],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["code"],
        "properties": {"code": {"type": "string", "pattern": "^[0-9]{6}$"}}}}}},
    "responses": {"200": _one("Confirmed"), **error_responses(*WRITE_ERRORS, 404, 429)},
}})
