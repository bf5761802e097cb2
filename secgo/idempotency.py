"""Exactly-once writes: every write carries a client UUID; a replay gets the first answer."""
import hashlib
import json
import re
import uuid

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

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
    row = _lookup(user_key, key)
    if row is not None:
        return _stored(row, scope, request_hash)
    row = IdempotencyKey(
        user_key=user_key, key=key, scope=scope, request_hash=request_hash,
        status_code=0, response={},
    )
    try:
        db.session.add(row)
        db.session.flush()  # the unique constraint makes a concurrent twin wait here, then fail
        status, body, location = action()
        row.status_code, row.response, row.location = status, body, location
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        row = _lookup(user_key, key)
        if row is None:
            raise
        return _stored(row, scope, request_hash)
    except BaseException:
        db.session.rollback()
        raise
    return status, body, location
