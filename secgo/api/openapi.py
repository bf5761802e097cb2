"""The OpenAPI 3.1 document, assembled from the fragments each API module registers."""

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
        for c in codes
    }


IDEMPOTENCY_PARAM = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Client-generated UUID; a replay returns the first result and creates nothing.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
}


def document(server_url: str = "/api/v1") -> dict:
    """The whole OpenAPI document."""
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
        "paths": dict(sorted(PATHS.items())),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "secgo_session"},
            },
        },
    }
