from flask import jsonify
from flask_login import current_user

from ..errors import ApiError
from . import bp
from .openapi import document, error_responses, register, schema

ME = schema(
    "Me",
    {
        "type": "object",
        "required": ["id", "username", "display_name", "role", "locale", "timezone"],
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "display_name": {"type": "string"},
            "role": {"type": "string", "enum": ["producer", "customer", "coordinator", "admin"]},
            "organization": {"type": ["object", "null"]},
            "locale": {"type": "string"},
            "timezone": {"type": "string"},
        },
    },
)


def require_login():
    """Raise 401 unless a user is logged in (session or bearer token)."""
    if not current_user.is_authenticated:
        raise ApiError(401)
    return current_user


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


register("/openapi.json", {"get": {"summary": "This document", "security": [],
                                   "responses": {"200": {"description": "OpenAPI 3.1 document"}}}})


@bp.get("/me")
def me():
    user = require_login()
    org = user.organization
    return jsonify(
        {
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "organization": {"id": org.id, "name": org.name, "kind": org.kind} if org else None,
            "locale": user.locale,
            "timezone": user.timezone,
        }
    )


register(
    "/me",
    {
        "get": {
            "summary": "The logged-in user",
            "responses": {
                "200": {"description": "The user", "content": {"application/json": {"schema": ME}}},
                **error_responses(401),
            },
        }
    },
)


@bp.route("/<path:_unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(_unknown):
    raise ApiError(404)


from . import orders  # noqa: E402,F401  (orders, updates, deliveries, attachments)
from . import issues  # noqa: E402,F401  (issues: list, raise, read, comment, transition)
from . import push  # noqa: E402,F401  (push subscriptions, VAPID key)
from . import channels  # noqa: E402,F401  (Telegram and SMS notification channels)
from . import documents  # noqa: E402,F401  (documents of an order, crossing checklists)
from . import matching  # noqa: E402,F401  (business matching: events, matches, report)
from . import profiles  # noqa: E402,F401  (producer profiles, the directory, enquiries)
