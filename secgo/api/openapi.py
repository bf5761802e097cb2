"""The OpenAPI 3.1 document, assembled from the fragments each API module registers."""
from ..counting import COUNT_AHEAD
from ..readmarks import UNREAD_DAYS

PATHS: dict[str, dict] = {}
SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            }
        },
    },
}


def register(path: str, operations: dict) -> None:
    """Add operations (method -> OpenAPI operation object) for a path."""
    PATHS.setdefault(path, {}).update(operations)


def schema(name: str, body: dict) -> dict:
    """Register a named component schema and return a $ref to it."""
    SCHEMAS[name] = body
    return ref(name)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def error_responses(*codes: int) -> dict:
    """Standard error responses for the given status codes."""
    return {
        str(c): {
            "description": "Error",
            "content": {"application/json": {"schema": ref("Error")}},
        }
        for c in sorted(set(codes))
    }


# What any write may answer besides its own refusals: 400 (malformed JSON or Idempotency-Key;
# for a session, a missing CSRF token), 401, 409 (an Idempotency-Key reused for another action
# or body), 413 (a body over MAX_CONTENT_LENGTH), 415 (not JSON), 422 (invalid fields, or
# `idempotency_key_mismatch`: the key was used on another order or item).
WRITE_ERRORS = (400, 401, 409, 413, 415, 422)


IDEMPOTENCY_PARAM = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Client-generated UUID; a replay to the same target with the same body returns "
    "the first result and creates nothing. The key belongs to one target: sent to another order "
    "or item it is refused (422, code idempotency_key_mismatch); with another body, 409.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
}


# The lists' unread flag (secgo.readmarks); reading through the API marks nothing seen.
# Lists count their rows up to secgo.counting.COUNT_AHEAD past the page asked for.
MORE_PROPERTY = {"more": {"type": "boolean", "description": (
    f"true when there are more than `total`: a list counts at most {COUNT_AHEAD:,} rows past "
    "the page asked for")}}

UNREAD_NOTE = ("News by someone else since the caller last opened its page in the app (or "
               f"last acted on it), within the last {UNREAD_DAYS} days. Reading through the API "
               "marks nothing seen.")


# Answered by the HTTP server in front of the app (gunicorn: a request line over 4094 bytes),
# so possible for every operation and not in the app's JSON error format.
URI_TOO_LONG = {"414": {"description": "The URL is too long (the HTTP server's limit)"}}


# Answered by secgo.inputs before any view: NUL in a query argument, header or cookie (no text
# may hold it), so possible for every operation.
NUL_REFUSED = {"400": {"description": "The request contains a NUL character",
                       "content": {"application/json": {"schema": ref("Error")}}}}


def document(server_url: str = "/api/v1") -> dict:
    """The whole OpenAPI document."""
    paths = {path: {method: {**op, "responses": {**NUL_REFUSED, **op.get("responses", {}),
                                                 **URI_TOO_LONG}}
                    for method, op in ops.items()}
             for path, ops in sorted(PATHS.items())}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SEC GO! API",
            "version": "1.0.0",
            "description": "Orders, status updates, confirmations, deliveries and issues "
            "for the Mekong Southern Economic Corridor.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "secgo_session"},
            },
        },
    }
