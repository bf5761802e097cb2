"""API v1: an order's documents and each border crossing's checklist."""
from flask import request

from ..documents import services as documents
from ..documents.routes import (
    document_json,
    remove_document,
    send_document,
    set_checklist,
    upload_document,
)
from ..errors import ApiError
from ..limits import max_length
from ..models import BORDER_CROSSINGS, DOCUMENT_TYPES
from ..orders import services
from ..writes import Write, submit
from . import bp
from .openapi import IDEMPOTENCY_PARAM, WRITE_ERRORS, error_responses, register, schema
from .routes import require_login


@bp.get("/orders/<reference>/documents")
def documents_list(reference):
    order = services.get_order(require_login(), reference)
    docs = documents.order_documents(order)
    return {"items": [document_json(d) for d in docs],
            "checklist": [{"doc_type": c["doc_type"], "present": c["present"]}
                          for c in documents.checklist(order, docs)],
            "missing": documents.missing_types(order)}


UPLOAD = Write("documents.upload", upload_document, body="json", files="file")


@bp.post("/orders/<reference>/documents")
def documents_create(reference):
    user = require_login()
    order = services.get_order(user, reference)
    if request.mimetype != "multipart/form-data":
        raise ApiError(415)
    return submit(UPLOAD, user, order)


@bp.get("/orders/<reference>/documents/<int:document_id>")
def documents_read(reference, document_id):
    order = services.get_order(require_login(), reference)
    return send_document(documents.get_document(order, document_id),
                         download=request.args.get("download") == "1")


REMOVE = Write("documents.remove", remove_document, body=None)


@bp.delete("/orders/<reference>/documents/<int:document_id>")
def documents_remove(reference, document_id):
    user = require_login()
    return submit(REMOVE, user, services.get_order(user, reference), document_id)


def _staff():
    user = require_login()
    if user.role not in ("coordinator", "admin"):
        raise ApiError(403)
    return user


def _crossing(crossing):
    if crossing not in BORDER_CROSSINGS:
        raise ApiError(404)
    return crossing


@bp.get("/crossings/<crossing>/checklist")
def checklist_read(crossing):
    require_login()  # every side sees what a crossing needs
    return {"crossing": _crossing(crossing),
            "checklist": documents.crossing_checklists()[crossing]}


SET_CHECKLIST = Write("documents.checklist", set_checklist, body="json")


@bp.put("/crossings/<crossing>/checklist")
def checklist_set(crossing):
    user = _staff()
    return submit(SET_CHECKLIST, user, _crossing(crossing))


# --- OpenAPI -------------------------------------------------------------------------------

DOCUMENT = schema("Document", {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "doc_type": {"type": "string", "enum": list(DOCUMENT_TYPES)},
        "label": {"type": "string", "description": "The type in the caller's language"},
        "mime": {"type": "string", "enum": ["application/pdf", "image/jpeg"]},
        "size": {"type": "integer"}, "pages": {"type": "integer"},
        "filename": {"type": "string", "description": "As uploaded (shown, never used to serve)"},
        "uploaded_by": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "removed": {"type": "boolean"},
        "url": {"type": "string"}, "thumb_url": {"type": "string"},
    },
})
CHECKLIST = schema("CrossingChecklist", {
    "type": "object",
    "description": "Product word (\"\" for every product) -> the document types needed",
    "additionalProperties": {"type": "array", "items": {
        "type": "string", "enum": list(DOCUMENT_TYPES)}},
})
REF = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}
DOC_ID = {"name": "document_id", "in": "path", "required": True, "schema": {"type": "integer"}}
CROSSING = {"name": "crossing", "in": "path", "required": True,
            "schema": {"type": "string", "enum": list(BORDER_CROSSINGS)}}
SAFETY = (
    "A PDF is rewritten with pikepdf without JavaScript, embedded files, launch and other "
    "actions, forms (AcroForm, XFA), acting annotations and metadata; an encrypted (422) or "
    "unreadable (422) PDF, one over 50 pages (422) or over 10 MB (413) is refused and nothing "
    "is stored. A photo of paper (JPEG, PNG, WebP, HEIC) is re-encoded as JPEG without "
    "metadata; anything else is refused (415). The same file sent again to the same order as "
    "the same type answers the document already there."
)


def _json(s):
    return {"content": {"application/json": {"schema": s}}}


register("/orders/{reference}/documents", {
    "get": {
        "summary": "An order's documents and its crossing's checklist (ticked)",
        "parameters": [REF],
        "responses": {"200": {"description": "Documents", **_json({
            "type": "object", "properties": {
                "items": {"type": "array", "items": DOCUMENT},
                "checklist": {"type": "array", "items": {"type": "object", "properties": {
                    "doc_type": {"type": "string", "enum": list(DOCUMENT_TYPES)},
                    "present": {"type": "boolean"}}}},
                "missing": {"type": "array", "items": {"type": "string"}}}})},
            **error_responses(401, 404)},
    },
    "post": {
        "summary": "Attach a document (PDF or a photo of paper) to an order",
        "description": SAFETY,
        "parameters": [REF, IDEMPOTENCY_PARAM],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "doc_type"], "properties": {
                "file": {"type": "string", "contentMediaType": "application/pdf"},
                "doc_type": {"type": "string", "enum": list(DOCUMENT_TYPES)}}}}}},
        "responses": {"201": {"description": "Stored", **_json(DOCUMENT)},
                      **error_responses(*WRITE_ERRORS, 404, 507)},
    },
})
register("/orders/{reference}/documents/{document_id}", {
    "get": {
        "summary": "The document's file",
        "description": "Served with `X-Content-Type-Options: nosniff`, `Content-Security-Policy: "
                       "sandbox` and private caching; a PDF inline (`?download=1`: as an "
                       "attachment), a photo as an attachment.",
        "parameters": [REF, DOC_ID, {"name": "download", "in": "query",
                                     "schema": {"type": "string", "enum": ["1"]}}],
        "responses": {"200": {"description": "The file", "content": {
            "application/pdf": {"schema": {"type": "string"}},
            "image/jpeg": {"schema": {"type": "string"}}}},
            **error_responses(401, 404, 405)},
    },
    "delete": {
        "summary": "Remove a document (its uploader, or an admin); removing it again changes nothing",
        "parameters": [REF, DOC_ID, IDEMPOTENCY_PARAM],
        # 405: an id past the largest record id matches no route, and werkzeug then names the
        # path's other method (GET) as the one allowed.
        "responses": {"200": {"description": "Removed", **_json(DOCUMENT)},
                      **error_responses(400, 401, 403, 404, 405, 409)},
    },
})
register("/crossings/{crossing}/checklist", {
    "get": {
        "summary": "The documents a border crossing needs",
        "parameters": [CROSSING],
        "responses": {"200": {"description": "Checklist", **_json({
            "type": "object", "properties": {"crossing": {"type": "string"},
                                             "checklist": CHECKLIST}})},
            **error_responses(401, 404)},
    },
    "put": {
        "summary": "Set what a crossing needs for every product or one product word (coordinator)",
        "description": "`doc_types` replaces the list of that (crossing, product) group; an "
                       "empty list removes it. Open orders on the crossing follow at once.",
        "parameters": [CROSSING, IDEMPOTENCY_PARAM],
        "requestBody": {"required": True, **_json({
            "type": "object", "required": ["doc_types"], "properties": {
                "product": {"type": "string", **max_length("product")},
                "doc_types": {"type": "array", "items": {
                    "type": "string", "enum": list(DOCUMENT_TYPES)}}}})},
        "responses": {"200": {"description": "Saved", **_json({
            "type": "object", "properties": {"crossing": {"type": "string"},
                                             "checklist": CHECKLIST}})},
            **error_responses(*WRITE_ERRORS, 403, 404)},
    },
})
