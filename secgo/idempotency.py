"""Exactly-once writes: every write carries a client UUID; a replay gets the first answer."""
import hashlib
import json
import re
import uuid

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from .errors import ApiError
from .extensions import db
from .inputs import json_body
from .models import IdempotencyKey

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SCOPE_COLUMN = 80  # IdempotencyKey.scope
TARGET_DIGEST = 16


def new_client_id() -> str:
    """A fresh client id for a form rendered on the server (no-JS double submits)."""
    return str(uuid.uuid4())


def request_key() -> str | None:
    """The Idempotency-Key header, else the form's or JSON body's client_id; None when absent."""
    key = request.headers.get("Idempotency-Key") or request.form.get("client_id")
    if key is None and request.is_json:
        body = json_body(empty_ok=True)
        if isinstance(body.get("client_id"), str):
            key = body["client_id"]
    if key is None or key == "":
        return None
    if not KEY_RE.match(key):
        raise ApiError(
            400, _l("The request id (Idempotency-Key) is malformed."), code="bad_idempotency_key"
        )
    return key


def _lookup(user_key, key):
    return db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_key == user_key, IdempotencyKey.key == key)
    )


def already_stored(user_key: str, key: str | None) -> bool:
    """Whether a write with this key is stored already (run_once will replay its answer)."""
    return key is not None and _lookup(user_key, key) is not None


def request_target() -> str:
    """What the current request writes to: its URL's arguments (order reference, update, issue,
    link ...); "" for a request that names none (a new order)."""
    if not has_request_context() or not request.view_args:
        return ""
    return json.dumps({k: str(v) for k, v in request.view_args.items()}, sort_keys=True)


def _scoped(scope: str, target: str) -> str:
    # The target rides in the scope column as a short digest: "orders.update@1f0c...".
    digest = hashlib.sha256(target.encode()).hexdigest()[:TARGET_DIGEST]
    return f"{scope[:SCOPE_COLUMN - TARGET_DIGEST - 1]}@{digest}"


def _stored(row, scope, request_hash):
    action, _at, target = row.scope.partition("@")
    asked, _at, asked_target = scope.partition("@")
    if action != asked:
        raise ApiError(
            409,
            _l("This request id was already used for a different action."),
            code="idempotency_key_reused",
        )
    if target and target != asked_target:  # rows stored before targets were kept have none
        raise ApiError(
            422,
            _l("This request id was already used for another order or item. Send the new "
               "request with a new id."),
            code="idempotency_key_mismatch",
        )
    if row.request_hash != request_hash:
        raise ApiError(
            409,
            _l("This request id was already used for a different action."),
            code="idempotency_key_reused",
        )
    return row.status_code, row.response, row.location


def _claim(user_key: str, key: str, scope: str, request_hash: str) -> int | None:
    """The new key's row id, inserted in the write's transaction; None when the caller stored
    a write with this key already. One statement (INSERT ... ON CONFLICT DO NOTHING RETURNING,
    on PostgreSQL and SQLite alike): a twin sent at the same moment waits here on the unique
    key until the first commits (then gets None) or rolls back (then stores its own)."""
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = IdempotencyKey.__table__
    return connection.scalar(
        dialect.insert(table)
        .values(user_key=user_key, key=key, scope=scope, request_hash=request_hash, status_code=0, response={})
        .on_conflict_do_nothing(index_elements=[table.c.user_key, table.c.key])
        .returning(table.c.id))


def _claimed(user_key: str, key: str, scope: str, request_hash: str):
    """The new key's row id, or the stored answer (status, body, location) of the write
    that has this key already (a twin's in flight: waited for)."""
    for _attempt in range(3):
        claimed = _claim(user_key, key, scope, request_hash)
        if claimed is not None:
            return claimed
        row = _lookup(user_key, key)
        if row is not None:
            return _stored(row, scope, request_hash)
        # gone again at once (the purge of old keys took it): claimed anew
    raise ApiError(409, _l("This request id was already used for a different action."),
                   code="idempotency_key_reused")


def run_once(user_key: str, key: str | None, scope: str, payload, action):
    """Run action() once per (caller, key) and commit; replays return the stored answer.

    Called by secgo.writes.submit only. A key belongs to one action on one target (the
    request's URL arguments, request_target()): a replay to another target is refused (422),
    not answered with the first target's result. action() returns (status, body, location) and only flushes. A
    refusal (ApiError) rolls everything back and stores nothing, so the item can be fixed and
    sent again.
    """
    if key is None:
        result = action()
        db.session.commit()
        return result
    request_hash = hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=str).encode()
    ).hexdigest()
    scope = _scoped(scope, request_target())
    try:
        claimed = _claimed(user_key, key, scope, request_hash)
        if not isinstance(claimed, int):
            return claimed  # the first answer
        status, body, location = action()
        table = IdempotencyKey.__table__
        db.session.execute(update(table).where(table.c.id == claimed)
                           .values(status_code=status, response=body, location=location))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return status, body, location
