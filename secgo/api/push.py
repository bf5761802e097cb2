"""API v1: push subscriptions and the server's VAPID public key."""
from flask import request

from ..errors import ApiError
from ..notify import EVENTS
from ..push import services
from ..push.endpoints import MAX_LENGTH
from ..push.vapid import load_keys
from ..writes import Write, submit
from . import bp
from .openapi import IDEMPOTENCY_PARAM, WRITE_ERRORS, error_responses, register, schema
from .routes import require_login

SUBSCRIPTION = schema(
    "PushSubscription",
    {
        "type": "object",
        "required": ["id", "endpoint", "events"],
        "properties": {
            "id": {"type": "integer"},
            "endpoint": {"type": "string", "format": "uri"},
            "events": {"type": "array", "items": {"type": "string", "enum": list(EVENTS)}},
            "user_agent": {"type": "string"},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "last_success_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
)
NEW_SUBSCRIPTION = schema(
    "NewPushSubscription",
    {
        "type": "object",
        "required": ["endpoint", "keys"],
        "description": "PushSubscription.toJSON() from the browser, plus the events wanted "
        "(omitted: every event).",
        "properties": {
            "endpoint": {"type": "string", "format": "uri", "maxLength": MAX_LENGTH},
            "keys": {
                "type": "object",
                "required": ["p256dh", "auth"],
                "properties": {"p256dh": {"type": "string"}, "auth": {"type": "string"}},
            },
            "events": {"type": "array", "minItems": 1,
                       "description": "Events of orders and issues, and reminders: remind_stale "
                       "and remind_due (producers), remind_confirm (customers), weekly_digest "
                       "and remind_match (coordinators); each role is offered only its own.",
                       "items": {"type": "string", "enum": list(EVENTS)}},
        },
    },
)


@bp.get("/push/key")
def push_key():
    require_login()
    return {"public_key": load_keys().application_server_key}


@bp.get("/push/subscriptions")
def push_subscriptions():
    user = require_login()
    return {"subscriptions": [services.to_dict(s, user) for s in services.devices(user)]}


def _subscribe(posted, user):
    sub, created = services.save(user, posted.data, request.headers.get("User-Agent", ""))
    return (201 if created else 200), services.to_dict(sub, user), f"/api/v1/push/subscriptions/{sub.id}"


def _unsubscribe(posted, user, sub_id):
    if not services.remove(user, subscription_id=sub_id):
        raise ApiError(404)
    return 204, {}, None


SUBSCRIBE = Write("api.push_subscribe", _subscribe, body="json")
UNSUBSCRIBE = Write("api.push_unsubscribe", _unsubscribe, body=None)


@bp.post("/push/subscriptions")
def push_subscribe():
    return submit(SUBSCRIBE, require_login())


@bp.delete("/push/subscriptions/<int:id>")
def push_unsubscribe(id):  # noqa: A002  (the name the OpenAPI document gives the parameter)
    return submit(UNSUBSCRIBE, require_login(), id)


register("/push/key", {"get": {
    "summary": "The server's VAPID public key (applicationServerKey for PushManager.subscribe)",
    "responses": {
        "200": {"description": "The key", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"public_key": {"type": "string"}}}}}},
        **error_responses(401),
    },
}})
register("/push/subscriptions", {
    "get": {
        "summary": "My devices that receive notifications",
        "responses": {
            "200": {"description": "The subscriptions", "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"subscriptions": {"type": "array", "items": SUBSCRIPTION}}}}}},
            **error_responses(401),
        },
    },
    "post": {
        "summary": "Turn notifications on for a device (or change its events)",
        "description": "The endpoint's host must be a known push service.",
        "parameters": [IDEMPOTENCY_PARAM],
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": NEW_SUBSCRIPTION}}},
        "responses": {
            "201": {"description": "Created", "content": {"application/json": {"schema": SUBSCRIPTION}}},
            "200": {"description": "Updated", "content": {"application/json": {"schema": SUBSCRIPTION}}},
            **error_responses(*WRITE_ERRORS),
        },
    },
})
register("/push/subscriptions/{id}", {"delete": {
    "summary": "Turn notifications off for a device",
    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                   IDEMPOTENCY_PARAM],
    "responses": {"204": {"description": "Removed"}, **error_responses(400, 401, 404, 409)},
}})
