"""API v1: orders, status updates, confirmations, deliveries and photo uploads."""
from flask import request, url_for
from flask_babel import gettext as _

from .. import phrases
from ..attachments.services import (
    MAX_PHOTOS,
    MAX_SIGNATURE_BYTES,
    SIGNATURE_MAX,
    SIGNATURE_MIN,
    save_photo,
)
from ..attachments import saver
from ..attachments.routes import saver_writes
from ..attachments.voice import MAX_VOICE_BYTES, MAX_VOICE_SECONDS
from ..attachments.voice import MIME as VOICE_MIME
from ..errors import ApiError
from ..extensions import limiter
from ..limits import LIMITS, max_length
from ..models import CONDITIONS, CURRENCIES, STATUSES, UPDATE_KINDS
from ..orders import handover, labels, services
from ..orders.routes import LABELS_PDF_LIMIT, end_tracking_link, labels_response, new_tracking_link
from ..writes import Write, submit
from . import bp
from .openapi import (IDEMPOTENCY_PARAM, MORE_PROPERTY, UNREAD_NOTE, WRITE_ERRORS, error_responses,
                      register, schema)
from .routes import require_login


def num(value) -> str | None:
    """A Decimal as plain text without trailing zeros ("20000", "1.5")."""
    return None if value is None else format(value.normalize(), "f")


def photo_json(p) -> dict:
    return {"id": p.id, "url": url_for("attachments.photo", attachment_id=p.id),
            "thumb_url": url_for("attachments.thumb", attachment_id=p.id),
            "width": p.width, "height": p.height, "preview": p.preview}


def voice_json(v) -> dict | None:
    """A voice note as the API shows it: where it plays (AAC in MP4) and how long it is."""
    if v is None:
        return None
    return {"id": v.id, "url": url_for("attachments.photo", attachment_id=v.id),
            "mime": v.mime, "duration_ms": v.duration_ms}


def order_json(order, awaiting=None, open_issues=None, today=None) -> dict:
    """An order as the API shows it; with its counts (awaiting confirmation, open issues) when
    given, and whether it is overdue on the caller's day."""
    data = {
        "reference": order.reference,
        "status": order.status,
        "producer": {"id": order.producer_org.id, "name": order.producer_org.name},
        "customer": {"id": order.customer_org.id, "name": order.customer_org.name},
        "product": order.product,
        "quantity": num(order.quantity),
        "unit": order.unit,
        "value": num(order.value),
        "currency": order.currency,
        "origin": order.origin,
        "destination": order.destination,
        "border_crossing": order.border_crossing,
        "due_date": order.due_date.isoformat() if order.due_date else None,
        "overdue": order.is_overdue(today or services.today()),
        "created_at": order.created_at.isoformat(),
        "last_activity_at": order.last_activity_at.isoformat(),
        "url": url_for("orders.detail", reference=order.reference),
    }
    if awaiting is not None:
        data["awaiting_confirmation"] = awaiting
        data["open_issues"] = open_issues
    return data


def update_json(u) -> dict:
    return {
        "id": u.id, "status": u.status, "note": u.note,
        "occurred_at": u.occurred_at.isoformat(), "recorded_at": u.recorded_at.isoformat(),
        "author": u.author.display_name if u.author else u.author_label,
        "latitude": u.latitude, "longitude": u.longitude, "corrects_id": u.corrects_id,
        "photos": [photo_json(p) for p in u.photos],
        "voice": voice_json(u.voice),
        "confirmed_at": u.confirmed_at.isoformat() if u.confirmed_at else None,
        "confirmed_by": (u.confirmed_by.display_name if u.confirmed_by else u.confirmed_by_label)
        if u.confirmed_at else None,
        "confirm_comment": u.confirm_comment,
        "phrases": phrases.as_json(u.phrases),
    }


@bp.get("/orders")
def orders_list():
    user = require_login()
    try:
        page_no = max(1, min(int(request.args.get("page", 1)), 100000))
    except ValueError:
        raise ApiError(422, fields={"page": _("Expected a number.")}) from None
    page = services.list_orders(
        user, status=request.args.get("status"), q=request.args.get("q", "")[:LIMITS["q"]],
        awaiting=request.args.get("awaiting") == "1", page=page_no,
    )
    today = services.today()
    return {
        "items": [{**order_json(r.order, r.awaiting, r.open_issues, today), "unread": r.unread}
                  for r in page.rows],
        "page": page.page, "pages": page.pages, "total": page.total, "more": page.more,
    }


def _create(posted, user):
    order = services.create_order(user, posted.data, client_id=posted.key)
    return 201, order_json(order), url_for("orders.detail", reference=order.reference)


CREATE = Write("orders.create", _create, body="json")


@bp.post("/orders")
def orders_create():
    return submit(CREATE, require_login())


@bp.get("/orders/<reference>")
def orders_read(reference):
    user = require_login()
    order = services.get_order(user, reference)
    updates, delivery, issues = services.load_history(order)
    data = order_json(order, sum(u.awaiting_confirmation for u in updates),
                      sum(i.is_open for i in issues))
    data["notes"] = order.notes
    data["updates"] = [update_json(u) for u in updates]
    data["delivery"] = None if delivery is None else {
        "id": delivery.id, "received_quantity": num(delivery.received_quantity),
        "condition": delivery.condition, "note": delivery.note,
        "phrases": phrases.as_json(delivery.phrases),
        "created_at": delivery.created_at.isoformat(),
        "photos": [photo_json(p) for p in delivery.photos],
        "voice": voice_json(delivery.voice),
        **proof_json(delivery),
    }
    data["issues"] = [{"id": i.id, "category": i.category, "severity": i.severity,
                       "title": i.shown_title, "title_phrase": phrases.one_json(i.title_phrase),
                       "update_id": i.update_id, "state": i.state,
                       "created_at": i.created_at.isoformat()}
                      for i in issues]
    side = services.side_of(user, order)
    data["allowed_statuses"] = services.allowed_statuses(order, side)
    return data


def _post_update(posted, user, order):
    update = services.post_update(user, order, posted.data, posted.photos(user), client_id=posted.key,
                                  voice=posted.voice(user))
    return 201, {**update_json(update), **services.papers_warning(order, update)}, \
        url_for("orders.detail", reference=order.reference)


POST_UPDATE = Write("orders.update", _post_update, texts=("note",), body="json")


@bp.post("/orders/<reference>/updates")
def updates_create(reference):
    user = require_login()
    return submit(POST_UPDATE, user, services.get_order(user, reference))


def _confirm(posted, user, update):
    services.confirm_update(user, update, posted.data)
    return 200, update_json(update), url_for("orders.detail", reference=update.order.reference)


CONFIRM = Write("orders.confirm", _confirm, body="json?")


@bp.post("/updates/<int:update_id>/confirm")
def updates_confirm(update_id):
    user = require_login()
    return submit(CONFIRM, user, services.get_update(user, update_id))


def _confirm_all(posted, user):
    confirmed, before = services.confirm_updates(user, posted.data)
    return 200, {"confirmed": [u.id for u in confirmed],
                 "already_confirmed": [u.id for u in before]}, None


CONFIRM_ALL = Write("orders.confirm_all", _confirm_all, body="json")


@bp.post("/updates/confirm")
def updates_confirm_all():
    return submit(CONFIRM_ALL, require_login())


@bp.get("/phrases")
def phrases_list():
    require_login()
    return {"items": [{"code": p.code, "params": dict(p.params), "where": list(p.where),
                       "text": phrases.render({"code": p.code, "params": {}}, placeholder="…")}
                      for p in phrases.PHRASES.values()]}


def proof_json(delivery) -> dict:
    """How the handover was proved: who received, "signature" (its picture) or "code"."""
    sign = delivery.signature
    return {"receiver_name": delivery.receiver_name, "proof": delivery.proof,
            "signature": photo_json(sign) if sign is not None else None}


def _deliver(posted, user, order):
    row = services.confirm_delivery(user, order, posted.data, posted.photos(user), client_id=posted.key,
                                    voice=posted.voice(user), signature=posted.signature(user),
                                    document=posted.document(user))
    return 201, {
        **proof_json(row),
        "id": row.id, "reference": order.reference, "received_quantity": num(row.received_quantity),
        "condition": row.condition, "note": row.note, "order_status": order.status,
        "phrases": phrases.as_json(row.phrases),
        "issue_opened": services.opens_issue(order, row.condition, row.received_quantity),
    }, url_for("orders.detail", reference=order.reference)


DELIVERY = Write("orders.delivery", _deliver, texts=("note", "receiver_name"), body="json")


@bp.post("/orders/<reference>/delivery")
def delivery_create(reference):
    user = require_login()
    return submit(DELIVERY, user, services.get_order(user, reference))


@bp.get("/orders/<reference>/handover-code")
def handover_code_read(reference):
    """The order's handover code, for the producer side to show the receiver."""
    user = require_login()
    order = services.get_order(user, reference)
    return {"reference": order.reference, "handover_code": handover.read_code(user, order)}


def _upload(posted, user):
    if not posted.files:
        raise ApiError(422, fields={"file": _("Attach a photo in the field “file”.")})
    photo = save_photo(user, posted.files[0].read())
    return 201, photo_json(photo), url_for("attachments.photo", attachment_id=photo.id)


UPLOAD = Write("attachments.upload", _upload, files="file")


@bp.post("/attachments")
def attachments_create():
    return submit(UPLOAD, require_login())


# The data saver (secgo.attachments.saver): previews first, the full photo once, on its own.
FULL_PHOTO, WANT_FULL = saver_writes()


@bp.post("/photos/<key>/full")
def photo_full(key):
    return submit(FULL_PHOTO, require_login(), key)


@bp.post("/attachments/<int:attachment_id>/want")
def photo_want(attachment_id):
    return submit(WANT_FULL, require_login(), attachment_id)


@bp.get("/photos/wanted")
def photos_wanted():
    """Which of the caller's previews (ids in `keys`) someone asked the full photo of."""
    user = require_login()
    keys = request.args.get("keys", "")[:saver.MAX_KEYS * 37].split(",")
    return {"wanted": saver.wanted(user, keys)}


CREATE_LINK = Write("orders.link", new_tracking_link, body="json")


@bp.post("/orders/<reference>/links")
def links_create(reference):
    return submit(CREATE_LINK, services.get_order(require_login(), reference))


REVOKE_LINK = Write("orders.revoke_link", end_tracking_link, body=None)


@bp.delete("/orders/<reference>/links/<int:link_id>")
def links_revoke(reference, link_id):
    user = require_login()
    return submit(REVOKE_LINK, services.get_order(user, reference), link_id)


# --- OpenAPI -------------------------------------------------------------------------------

# Burmese free text: one rule (secgo.i18n.check_zawgyi), described once for every write with text.
ZAWGYI_NOTE = (
    "Burmese text: Zawgyi that the detector is sure of (probability >= 0.95) is converted to "
    "Unicode before it is stored, the typed text kept as the original. When it is unsure "
    "(0.05-0.95) the text is stored as typed (a report is never refused for it) and the answer "
    "carries `zawgyi_suggestion`: {field: {typed, unicode}}. To choose, send "
    "`<field>_encoding`: `unicode` stores the suggested Unicode reading (keeping the typed text "
    "as the original), `typed` keeps the text as typed. Web forms ask the person instead."
)
ZAWGYI = schema("ZawgyiSuggestion", {
    "type": "object",
    "description": "Only in the answer to a write: fields stored as typed that may be Zawgyi.",
    "additionalProperties": {"type": "object", "required": ["typed", "unicode"], "properties": {
        "typed": {"type": "string"}, "unicode": {"type": "string",
                                                 "description": "The suggested Unicode reading"}}},
})


def encoding_field(name: str) -> dict:
    """The "<name>_encoding" property of a request body (the answer to "did you mean ...?")."""
    return {f"{name}_encoding": {"type": "string", "enum": ["unicode", "typed"],
                                 "description": f"How to store `{name}` when it may be Zawgyi."}}


PHRASES_NOTE = (
    "Quick phrases (`phrases`): common notes and problems stored as codes with parameters and "
    "shown to every reader in their own language, beside the free text as typed. Send a list of "
    "codes, or of {code, params}; GET /phrases lists each code, its parameters (quantity: a "
    "number > 0 with at most 3 decimals, in the order's unit; count: a whole number 1-999; "
    "status: a status code) and the writes that offer it (update, delivery, issue, comment). An "
    "unknown or not offered code, or a bad parameter, is refused (422, field `phrases`) and "
    "nothing is written. Answers give each phrase's code, params and `text` in the caller's "
    "language."
)
PHRASE = schema("Phrase", {
    "type": "object", "required": ["code", "params", "text"],
    "properties": {
        "code": {"type": "string", "enum": list(phrases.PHRASES)},
        "params": {"type": "object", "additionalProperties": {"type": ["string", "integer"]},
                   "description": "Quantities as text with the order's `unit`"},
        "text": {"type": "string", "description": "In the caller's language"},
    },
})


def phrases_in(where: str) -> dict:
    """The `phrases` property of a request body for a write that offers them."""
    codes = [p.code for p in phrases.offered(where)]
    item = {"type": "object", "required": ["code"], "additionalProperties": False, "properties": {
        "code": {"type": "string", "enum": codes},
        "params": {"type": "object", "additionalProperties": {"type": ["string", "number"]}}}}
    return {"phrases": {"type": "array", "maxItems": phrases.MAX_PHRASES, "description": PHRASES_NOTE,
                        "items": {"oneOf": [{"type": "string", "enum": codes}, item]}}}


ORG_REF = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
ORDER = schema("Order", {
    "type": "object",
    "required": ["reference", "status", "producer", "customer", "product", "quantity", "unit"],
    "properties": {
        "reference": {"type": "string", "pattern": "^SEC-[A-Z0-9]{6}$"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "producer": ORG_REF, "customer": ORG_REF,
        "product": {"type": "string"}, "quantity": {"type": "string"}, "unit": {"type": "string"},
        "value": {"type": ["string", "null"]}, "currency": {"type": ["string", "null"]},
        "origin": {"type": "string"}, "destination": {"type": "string"},
        "border_crossing": {"type": ["string", "null"]},
        "due_date": {"type": ["string", "null"], "format": "date"},
        "overdue": {"type": "boolean",
                    "description": "Due before the caller's today and neither delivered nor cancelled"},
        "created_at": {"type": "string", "format": "date-time"},
        "last_activity_at": {"type": "string", "format": "date-time"},
        "awaiting_confirmation": {"type": "integer",
                                  "description": "Status updates the customer has not confirmed"},
        "open_issues": {"type": "integer",
                        "description": "Issues open, acknowledged or reopened (not resolved or closed)"},
        "unread": {"type": "boolean", "description": "In lists: " + UNREAD_NOTE},
        "url": {"type": "string"},
    },
})
PHOTO = schema("Photo", {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "url": {"type": "string"},
                   "thumb_url": {"type": "string"}, "width": {"type": "integer"},
                   "height": {"type": "integer"},
                   "preview": {"type": "boolean",
                               "description": "A small preview (the data saver); the full photo "
                                              "follows through POST /photos/{key}/full"}},
})
VOICE = schema("VoiceNote", {
    "type": ["object", "null"],
    "description": "A voice note: AAC in MP4 (plays on every browser), at most "
                   f"{MAX_VOICE_SECONDS} seconds; the url answers Range requests (206).",
    "properties": {"id": {"type": "integer"}, "url": {"type": "string"},
                   "mime": {"type": "string", "enum": [VOICE_MIME]},
                   "duration_ms": {"type": "integer", "minimum": 0}},
})


def with_voice(body_ref) -> dict:
    """A write's request body: JSON, or the same fields as a multipart form with a voice note
    (field `voice`: WebM/Opus, MP4/AAC or Ogg from a recorder; re-encoded, metadata removed)."""
    return {"required": True, "content": {
        "application/json": {"schema": body_ref},
        "multipart/form-data": {"schema": {"allOf": [body_ref, {"type": "object", "properties": {
            "voice": {"type": "string", "contentMediaType": "audio/*",
                      "description": f"At most {MAX_VOICE_SECONDS} s and "
                                     f"{MAX_VOICE_BYTES // (1024 * 1024)} MB"},
            "photos": {"type": "array", "maxItems": MAX_PHOTOS,
                       "items": {"type": "string", "contentMediaType": "image/*"}},
            "preview_keys": {"type": "array", "items": {"type": "string"},
                             "description": "The data saver: one per file in `photos`, in order: "
                                            "a UUID marks that file as a small preview "
                                            f"(at most {saver.PREVIEW_MAX_BYTES // 1024} KB) whose "
                                            "full photo follows through POST /photos/{key}/full; "
                                            "empty for a full photo"}}}]}},
    }}


def with_signature(body: dict) -> dict:
    """A delivery's request body: with_voice's, whose multipart form also takes `signature` and
    `document`."""
    form = body["content"]["multipart/form-data"]["schema"]
    form["allOf"].append({"type": "object", "properties": {"signature": {
        "type": "string", "contentMediaType": "image/png",
        "description": f"A signature drawn on a screen: PNG, at most "
                       f"{MAX_SIGNATURE_BYTES // 1024} KB, {SIGNATURE_MIN[0]}x{SIGNATURE_MIN[1]} "
                       f"to {SIGNATURE_MAX[0]}x{SIGNATURE_MAX[1]} px; re-encoded, metadata "
                       "removed"}, "document": {
        "type": "string", "contentMediaType": "application/pdf",
        "description": "The signed delivery note: a PDF (rewritten without scripts, attachments, "
                       "actions or forms) or a photo of the paper, at most 10 MB; kept among the "
                       "order's documents as type delivery_note"}}})
    return body


UPDATE = schema("StatusUpdate", {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "status": {"type": "string", "enum": list(UPDATE_KINDS)},
        "note": {"type": "string"}, "occurred_at": {"type": "string", "format": "date-time"},
        "recorded_at": {"type": "string", "format": "date-time"},
        "author": {"type": ["string", "null"]}, "latitude": {"type": ["number", "null"]},
        "longitude": {"type": ["number", "null"]}, "corrects_id": {"type": ["integer", "null"]},
        "photos": {"type": "array", "items": PHOTO},
        "voice": VOICE,
        "confirmed_at": {"type": ["string", "null"]}, "confirmed_by": {"type": ["string", "null"]},
        "confirm_comment": {"type": ["string", "null"]},
        "phrases": {"type": "array", "items": PHRASE},
        "zawgyi_suggestion": ZAWGYI,
        "missing_documents": {"type": "array", "items": {"type": "string"},
                              "description": "Only in the answer to a `dispatched` or "
                              "`at_border` report sent while the crossing's checklist misses "
                              "these document types: the report is stored all the same"},
        "warning": {"type": "string", "description": "With missing_documents: what to tell "
                                                     "the person, in their language"},
    },
})
NEW_ORDER = schema("NewOrder", {
    "type": "object",
    "required": ["product", "quantity", "unit", "origin", "destination"],
    "properties": {
        "producer_org_id": {"type": "integer", "description": "For customers, coordinators, admins"},
        "customer_org_id": {"type": "integer", "description": "For producers, coordinators, admins"},
        "product": {"type": "string", **max_length("product")},
        "quantity": {"type": ["string", "number"]},
        "unit": {"type": "string", **max_length("unit")},
        "value": {"type": ["string", "number", "null"]},
        "currency": {"type": ["string", "null"], "enum": [*CURRENCIES, None]},
        "origin": {"type": "string", **max_length("origin")},
        "destination": {"type": "string", **max_length("destination")},
        "border_crossing": {"type": ["string", "null"]},
        "due_date": {"type": ["string", "null"], "format": "date"},
        "notes": {"type": "string", **max_length("notes")},
    },
})
NEW_UPDATE = schema("NewStatusUpdate", {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": list(UPDATE_KINDS)},
        "note": {"type": "string", **max_length("note")}, **encoding_field("note"),
        "occurred_at": {"type": "string", "format": "date-time"},
        "latitude": {"type": "number"}, "longitude": {"type": "number"},
        "corrects_id": {"type": "integer"},
        "photo_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": MAX_PHOTOS},
        **phrases_in(phrases.UPDATE),
    },
})
NEW_DELIVERY = schema("NewDelivery", {
    "type": "object",
    "required": ["received_quantity", "condition"],
    "properties": {
        "received_quantity": {"type": ["string", "number"]},
        "condition": {"type": "string", "enum": list(CONDITIONS),
                      "description": "Less than ordered is a short delivery: `good` is recorded "
                      "as `short`; `short` with the full quantity is refused (422)."},
        "note": {"type": "string", **max_length("note")}, **encoding_field("note"),
        "photo_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": MAX_PHOTOS},
        **phrases_in(phrases.DELIVERY),
        "proof": {"type": ["string", "null"], "enum": [*handover.PROOFS, None],
                  "description": "How the receiver proves the handover: `signature` (multipart "
                                 "field `signature`, a PNG drawn on a screen) or `code` (the "
                                 "order's 6-digit handover code in `handover_code`; a few wrong "
                                 "codes lock it for an hour: 429). Optional; with a proof, "
                                 "`receiver_name` is required."},
        "receiver_name": {"type": "string", **max_length("receiver_name")},
        **encoding_field("receiver_name"),
        "handover_code": {"type": "string", "pattern": "^[0-9]{6}$"},
    },
})
PROOF = {
    "receiver_name": {"type": ["string", "null"]},
    "proof": {"type": ["string", "null"], "enum": [*handover.PROOFS, None]},
    "signature": {"oneOf": [PHOTO, {"type": "null"}]},
}
DELIVERY_READ = schema("Delivery", {
    "type": ["object", "null"],
    "description": "The customer's delivery confirmation, or null before there is one",
    "properties": {
        "id": {"type": "integer"}, "received_quantity": {"type": "string"},
        "condition": {"type": "string", "enum": list(CONDITIONS)}, "note": {"type": "string"},
        "phrases": {"type": "array", "items": PHRASE},
        "created_at": {"type": "string", "format": "date-time"},
        "photos": {"type": "array", "items": PHOTO}, "voice": VOICE, **PROOF,
    },
})
ORDER_DETAIL = schema("OrderDetail", {"allOf": [ORDER, {
    "type": "object",
    "properties": {
        "notes": {"type": "string"},
        "updates": {"type": "array", "items": UPDATE, "description": "The timeline, oldest first"},
        "delivery": DELIVERY_READ,
        "issues": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "category": {"type": "string"},
            "severity": {"type": "string"}, "title": {"type": "string"},
            "title_phrase": {"oneOf": [PHRASE, {"type": "null"}]}, "update_id": {"type": ["integer", "null"]},
            "state": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}}}},
        "allowed_statuses": {"type": "array", "items": {"type": "string"},
                             "description": "The statuses the caller may post next"},
    },
}]})


def _json(s):
    return {"content": {"application/json": {"schema": s}}}


def _body(s):
    return {"required": True, **_json(s)}


REF_PARAM = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}
register("/orders", {
    "get": {
        "summary": "List, filter and search the orders you may see",
        "parameters": [
            {"name": "status", "in": "query", "schema": {"type": "string"}},
            {"name": "q", "in": "query", "schema": {"type": "string", **max_length("q")}},
            {"name": "awaiting", "in": "query", "schema": {"type": "string", "enum": ["1"]}},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        ],
        "responses": {"200": {"description": "One page of orders", **_json({
            "type": "object", "properties": {
                "items": {"type": "array", "items": ORDER}, "page": {"type": "integer"},
                "pages": {"type": "integer"}, "total": {"type": "integer"}, **MORE_PROPERTY}})},
            **error_responses(401, 422)},
    },
    "post": {
        "summary": "Create an order",
        "parameters": [IDEMPOTENCY_PARAM],
        "requestBody": _body(NEW_ORDER),
        "responses": {"201": {"description": "Created", **_json(ORDER)},
                      **error_responses(*WRITE_ERRORS, 403)},
    },
})
register("/orders/{reference}", {
    "get": {
        "summary": "An order with its timeline",
        "parameters": [REF_PARAM],
        "responses": {"200": {"description": "The order", **_json(ORDER_DETAIL)},
                      **error_responses(401, 404)},
    },
})
register("/orders/{reference}/updates", {
    "post": {
        "summary": "Post a status update, a note or a correction",
        "description": ZAWGYI_NOTE,
        "parameters": [REF_PARAM, IDEMPOTENCY_PARAM],
        "requestBody": with_voice(NEW_UPDATE),
        "responses": {"201": {"description": "Created", **_json(UPDATE)},
                      **error_responses(*WRITE_ERRORS, 403, 404)},
    },
})
register("/updates/{update_id}/confirm", {
    "post": {
        "summary": "Confirm a status update (customer)",
        "parameters": [{"name": "update_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}, IDEMPOTENCY_PARAM],
        "requestBody": {"required": False, **_json({
            "type": "object", "properties": {"comment": {"type": "string", **max_length("comment")}}})},
        "responses": {"200": {"description": "Confirmed", **_json(UPDATE)},
                      **error_responses(*WRITE_ERRORS, 403, 404)},
    },
})
register("/updates/confirm", {
    "post": {
        "summary": "Confirm several status updates at once (customer): all or nothing",
        "description": "Updates already confirmed are left as they are and listed in "
                       "`already_confirmed`; an update the caller may not see is refused (422, "
                       "field `update_ids`) and nothing is confirmed.",
        "parameters": [IDEMPOTENCY_PARAM],
        "requestBody": _body({"type": "object", "required": ["update_ids"], "properties": {
            "update_ids": {"type": "array", "minItems": 1, "maxItems": services.MAX_BATCH,
                           "items": {"type": "integer"}}}}),
        "responses": {"200": {"description": "Confirmed", **_json({
            "type": "object", "properties": {
                "confirmed": {"type": "array", "items": {"type": "integer"}},
                "already_confirmed": {"type": "array", "items": {"type": "integer"}}}})},
                      **error_responses(*WRITE_ERRORS, 403)},
    },
})
register("/phrases", {
    "get": {
        "summary": "The quick phrases: codes, parameters, where each is offered, text in your language",
        "description": PHRASES_NOTE,
        "responses": {"200": {"description": "Every phrase", **_json({
            "type": "object", "properties": {"items": {"type": "array", "items": {
                "type": "object", "properties": {
                    "code": {"type": "string"},
                    "params": {"type": "object", "additionalProperties": {
                        "type": "string", "enum": list(phrases.PARAM_TYPES)}},
                    "where": {"type": "array", "items": {"type": "string",
                                                         "enum": list(phrases.WHERE)}},
                    "text": {"type": "string"}}}}}})},
                      **error_responses(401)},
    },
})
register("/orders/{reference}/delivery", {
    "post": {
        "summary": "Confirm delivery (customer); anything but complete and good opens an issue",
        "description": ZAWGYI_NOTE,
        "parameters": [REF_PARAM, IDEMPOTENCY_PARAM],
        "requestBody": with_signature(with_voice(NEW_DELIVERY)),
        "responses": {"201": {"description": "Recorded", **_json({
            "type": "object", "properties": {
                "condition": {"type": "string", "enum": list(CONDITIONS)},
                "issue_opened": {"type": "boolean"}, **PROOF,
                "phrases": {"type": "array", "items": PHRASE}, "zawgyi_suggestion": ZAWGYI}})},
                      **error_responses(*WRITE_ERRORS, 403, 404)},
    },
})
register("/orders/{reference}/handover-code", {
    "get": {
        "summary": "The order's 6-digit handover code (producer, its coordinator, admin), to "
                   "show the receiver at delivery; never shown to the customer side (403)",
        "parameters": [REF_PARAM],
        "responses": {"200": {"description": "The code", **_json({
            "type": "object", "properties": {
                "reference": {"type": "string"},
                "handover_code": {"type": "string", "pattern": "^[0-9]{6}$"}}})},
                      **error_responses(401, 403, 404)},
    },
})
register("/attachments", {
    "post": {
        "summary": "Upload a photo (re-encoded, metadata removed); reference its id in a later write",
        "parameters": [IDEMPOTENCY_PARAM],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "contentMediaType": "image/jpeg"}}}}}},
        "responses": {"201": {"description": "Stored", **_json(PHOTO)},
                      **error_responses(*WRITE_ERRORS)},
    },
})
PHOTO_STATE = schema("PhotoState", {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "preview": {"type": "boolean"},
                   "size": {"type": "integer", "description": "Bytes of the photo served now"},
                   "width": {"type": "integer"}, "height": {"type": "integer"},
                   "wanted": {"type": "boolean", "description": "Someone asked for the full photo"}},
})
PHOTO_KEY_PARAM = {"name": "key", "in": "path", "required": True,
                   "description": "The photo's id sent with its preview (form field `preview_keys` "
                                  "of a write's multipart form: one per photo file, empty for a "
                                  "full photo)",
                   "schema": {"type": "string", "format": "uuid"}}
register("/photos/{key}/full", {
    "post": {
        "summary": "The data saver: the full photo replaces its preview (once, by its uploader, "
                   "only the same picture: another one is refused with 422 and changes nothing)",
        "parameters": [PHOTO_KEY_PARAM, IDEMPOTENCY_PARAM],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["photo"],
            "properties": {"photo": {"type": "string", "contentMediaType": "image/jpeg"}}}}}},
        "responses": {"200": {"description": "The full photo is served now", **_json(PHOTO_STATE)},
                      **error_responses(*WRITE_ERRORS, 404)},
    },
})
register("/attachments/{attachment_id}/want", {
    "post": {
        "summary": "Ask for the full photo of a preview (a party of its order); its sender's "
                   "outbox sends it at its next sync",
        "parameters": [{"name": "attachment_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}, IDEMPOTENCY_PARAM],
        "responses": {"200": {"description": "Recorded", **_json(PHOTO_STATE)},
                      **error_responses(*WRITE_ERRORS, 404)},
    },
})
register("/photos/wanted", {
    "get": {
        "summary": "Which of the caller's previews someone asked the full photo of",
        "parameters": [{"name": "keys", "in": "query", "required": True,
                        "description": f"Photo ids, comma-separated (at most {saver.MAX_KEYS})",
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The ids asked for", **_json({
            "type": "object", "properties": {"wanted": {"type": "array", "items": {
                "type": "string", "format": "uuid"}}}})},
                      **error_responses(401)},
    },
})
LINK = schema("TrackingLink", {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "contact_name": {"type": "string"},
                   "expires_at": {"type": "string", "format": "date-time"},
                   "url": {"type": "string", "description": "Only in the first answer"}},
})
register("/orders/{reference}/links", {
    "post": {
        "summary": "Create a tracking link (and QR code) for the customer's staff without an account",
        "parameters": [REF_PARAM, IDEMPOTENCY_PARAM],
        "requestBody": _body({"type": "object", "required": ["contact_name"], "properties": {
            "contact_name": {"type": "string", **max_length("contact_name")},
            "days": {"type": "integer", "minimum": 1, "maximum": services.MAX_TRACKING_DAYS}}}),
        "responses": {"201": {"description": "Created", **_json(LINK)},
                      **error_responses(*WRITE_ERRORS, 403, 404)},
    },
})
register("/orders/{reference}/links/{link_id}", {
    "delete": {
        "summary": "Revoke a tracking link",
        "parameters": [REF_PARAM, {"name": "link_id", "in": "path", "required": True,
                                   "schema": {"type": "integer"}}, IDEMPOTENCY_PARAM],
        "responses": {"200": {"description": "Revoked", **_json(LINK)},
                      **error_responses(400, 401, 403, 404, 409)},
    },
})


@bp.get("/orders/<reference>/labels.pdf")
@limiter.limit(LABELS_PDF_LIMIT)
def labels_pdf(reference):
    """The order's QR labels as an A4 PDF (the producer's side; as the order page prints them)."""
    user = require_login()
    return labels_response(services.get_order(user, reference), request.args)


register("/orders/{reference}/labels.pdf", {
    "get": {
        "summary": "Printable QR labels for the order's packages (A4 PDF)",
        "description": f"{labels.PER_SHEET} labels a sheet (3 x 8, 70 x 37.125 mm), one per package: "
        "the order's QR code (a link to /l/{reference} on this site: it opens the order for whoever "
        "may see it), the reference, the product, the quantity per package and \"n of N\", in the "
        "producer organization's language and English. Only the producer's side of the order "
        "(its producer, coordinator, admin) prints them: the customer gets 403.",
        "parameters": [
            REF_PARAM,
            {"name": "packages", "in": "query", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": labels.MAX_PACKAGES}},
            {"name": "per_package", "in": "query", "required": True,
             "description": "Quantity in each package, in the order's unit; at most the order's quantity.",
             "schema": {"type": "string", "pattern": r"^\d+(\.\d{1,3})?$"}},
        ],
        "responses": {"200": {"description": "The labels",
                              "content": {"application/pdf": {"schema": {"type": "string",
                                                                         "format": "binary"}}}},
                      **error_responses(401, 403, 404, 422, 429)},
    },
})
