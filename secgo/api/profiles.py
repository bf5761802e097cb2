"""API v1 for producer profiles, the directory and enquiries (secgo.profiles.services)."""
from flask import jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .. import readmarks
from ..admin.services import page_number
from ..authz import (can_edit_cluster_profile, can_edit_profile, can_see_private_cluster_profile,
                     can_see_private_profile)
from ..documents.services import MAX_DOCUMENT_BYTES, paper_attachment
from ..errors import ApiError
from ..limits import max_length
from ..models import CERT_KINDS, COUNTRIES, MARKETS, SPOKEN
from ..profiles import services
from ..writes import Write, submit
from . import bp
from .openapi import IDEMPOTENCY_PARAM, WRITE_ERRORS, error_responses, register, schema
from .routes import require_login

MAX_LIMIT = 100


def _when(value):
    return value.isoformat() if value else None


def _number(value):
    return None if value is None else float(value)


def profile_json(org, profile, user, full=True) -> dict:
    """A profile as the API shows it; private fields only to those who may see them."""
    private = can_see_private_profile(user, org) if full else False
    capacity_shown = private or not profile.capacity_private
    today = services.utcnow().date()
    locale = str(get_locale())
    data = {
        "org_id": org.id, "name": org.name, "country": org.country, "province": org.province,
        "cluster_id": org.cluster_id, "cluster": org.cluster.name if org.cluster else None,
        "description": profile.description, "description_en": profile.description_en,
        "description_shown": services.shown_text(profile.description, profile.description_en, org.country, locale),
        "products": [{"name": p.name, "name_en": p.name_en,
                      "name_shown": services.shown_text(p.name, p.name_en, org.country, locale),
                      "unit": p.unit,
                      "monthly_capacity": _number(p.monthly_capacity) if capacity_shown else None,
                      "season_from": p.season_from, "season_to": p.season_to} for p in profile.products],
        "certifications": [{"kind": c.kind, "name": c.name, "expires_on": _when(c.expires_on),
                            "expired": c.expired(today), "document_id": c.document_id,
                            "document_url": url_for("attachments.photo", attachment_id=c.document_id)
                            if c.document_id else None}
                           for c in profile.certifications],
        "export_markets": profile.markets,
        "contact_name": profile.contact_name,
        "contact_languages": profile.languages,
        "capacity_private": profile.capacity_private,
        "photo_ids": [p.id for p in profile.photos],
    }
    if full:
        data["editable"] = can_edit_profile(user, org)
        data["show_track_record"] = profile.show_track_record
        if private:
            data["contact_phone"] = profile.contact_phone
        data["track_record"] = None
        if profile.show_track_record:
            r = services.track_record(org)
            data["track_record"] = {
                "first_month": r.first_month, "last_month": r.last_month, "delivered": r.delivered,
                "enough": r.enough, "minimum": services.MIN_DELIVERED,
                "on_time_share": r.on_time_share, "confirmed_share": r.confirmed_share,
                "resolve_hours_median": r.resolve_hours, "customers": r.customers if r.enough else None,
            }
    return data


@bp.get("/profiles/<int:org_id>")
def profile_read(org_id):
    user = require_login()
    org = services.get_producer(user, org_id)
    return jsonify(profile_json(org, services.profile_of(org), user))


def _save(posted, user, org):
    profile = services.save_profile(user, org, posted.data, photo_ids=posted.photo_ids)
    return 200, profile_json(org, profile, user), f"/api/v1/profiles/{org.id}"


SAVE = Write("profiles.save", _save, texts=("description", "description_en", "contact_name"), body="json")


@bp.put("/profiles/<int:org_id>")
def profile_save(org_id):
    user = require_login()
    return submit(SAVE, user, services.editable_producer(user, org_id))


def _certificate(posted, user, org):
    if not posted.files:
        raise ApiError(422, fields={"file": _l("Choose the file to attach.")})
    paper = paper_attachment(user, posted.files[0].read(MAX_DOCUMENT_BYTES + 1))
    url = url_for("attachments.photo", attachment_id=paper.id)
    return 201, {"id": paper.id, "mime": paper.mime, "size": paper.size, "url": url,
                 "thumb_url": url_for("attachments.thumb", attachment_id=paper.id)}, url


CERTIFICATE = Write("profiles.certificate", _certificate, files="file")


@bp.post("/profiles/<int:org_id>/certificates")
def profile_certificate(org_id):
    user = require_login()
    return submit(CERTIFICATE, user, services.editable_producer(user, org_id))


def cluster_profile_json(cluster, profile, user) -> dict:
    """A cluster's profile as the API shows it; the phone only to those who may see it."""
    data = {"cluster_id": cluster.id, "name": cluster.name, "country": cluster.country,
            "province": cluster.province, "product": cluster.product,
            "description": profile.description, "description_en": profile.description_en,
            "description_shown": services.shown_text(profile.description, profile.description_en,
                                                     cluster.country, str(get_locale())),
            "export_markets": profile.markets, "contact_name": profile.contact_name,
            "contact_languages": profile.languages,
            "editable": can_edit_cluster_profile(user, cluster)}
    if can_see_private_cluster_profile(user, cluster):
        data["contact_phone"] = profile.contact_phone
    return data


@bp.get("/clusters/<int:cluster_id>/profile")
def cluster_profile_read(cluster_id):
    user = require_login()
    cluster = services.get_cluster(user, cluster_id)
    return jsonify(cluster_profile_json(cluster, services.cluster_profile_of(cluster), user))


def _save_cluster(posted, user, cluster):
    profile = services.save_cluster_profile(user, cluster, posted.data)
    return 200, cluster_profile_json(cluster, profile, user), f"/api/v1/clusters/{cluster.id}/profile"


SAVE_CLUSTER = Write("profiles.cluster_save", _save_cluster,
                     texts=("description", "description_en", "contact_name"), body="json")


@bp.put("/clusters/<int:cluster_id>/profile")
def cluster_profile_save(cluster_id):
    user = require_login()
    return submit(SAVE_CLUSTER, user, services.editable_cluster(user, cluster_id))


@bp.get("/directory")
def directory_search():
    user = require_login()
    page = services.directory(user, services.parse_filters(request.args),
                              page_number(request.args.get("page")))
    return jsonify({"items": [profile_json(p.organization, p, user, full=False) for p in page.items],
                    "total": page.total, "page": page.number, "pages": page.pages})


def enquiry_json(e, full=False) -> dict:
    """An enquiry as the API shows it."""
    data = {"id": e.id, "producer_org_id": e.producer_org_id, "producer": e.producer_org.name,
            "customer_org_id": e.customer_org_id, "customer": e.customer_org.name,
            "product": e.product, "quantity": _number(e.quantity), "unit": e.unit,
            "created_at": _when(e.created_at), "updated_at": _when(e.updated_at)}
    if full:
        data["messages"] = [{"id": m.id, "author": m.author.display_name if m.author else None,
                             "body": m.body, "created_at": _when(m.created_at)} for m in e.messages]
    return data


@bp.get("/enquiries")
def enquiries_list():
    user = require_login()
    limit, offset = request.args.get("limit", "50"), request.args.get("offset", "0")
    if not (limit.isdecimal() and offset.isdecimal() and len(limit) < 6 and len(offset) < 10):
        raise ApiError(422, fields={"limit": _l("Use whole numbers.")})
    limit = min(max(int(limit), 1), MAX_LIMIT)
    items, total = services.list_enquiries(user, limit=limit, offset=int(offset))
    unread = readmarks.unread_ids(user, "enquiry", [e.id for e in items])
    return jsonify({"items": [{**enquiry_json(e), "unread": e.id in unread} for e in items],
                    "total": total, "limit": limit,
                    "offset": int(offset)})


def _create(posted, user, org):
    enquiry = services.create_enquiry(user, org, posted.data)
    return 201, enquiry_json(enquiry, full=True), f"/api/v1/enquiries/{enquiry.id}"


CREATE = Write("profiles.enquiry", _create, texts=("product", "body"), body="json")


@bp.post("/profiles/<int:org_id>/enquiries")
def enquiries_create(org_id):
    user = require_login()
    return submit(CREATE, user, services.get_producer(user, org_id))


@bp.get("/enquiries/<int:enquiry_id>")
def enquiries_read(enquiry_id):
    user = require_login()
    return jsonify(enquiry_json(services.get_enquiry(user, enquiry_id), full=True))


def _reply(posted, user, enquiry):
    message = services.reply(user, enquiry, posted.data)
    return 201, {"id": message.id, "enquiry_id": enquiry.id}, f"/api/v1/enquiries/{enquiry.id}"


REPLY = Write("profiles.reply", _reply, texts=("body",), body="json")


@bp.post("/enquiries/<int:enquiry_id>/messages")
def enquiries_reply(enquiry_id):
    user = require_login()
    return submit(REPLY, user, services.get_enquiry(user, enquiry_id))


# --- the OpenAPI document ---------------------------------------------------------------------

_TEXT = {"type": "string"}
PRODUCT = {"type": "object", "properties": {
    "name": {**_TEXT, **max_length("product")}, "name_en": {**_TEXT, **max_length("product")},
    "unit": {**_TEXT, **max_length("unit")},
    "monthly_capacity": {"type": ["number", "string", "null"], "minimum": 0,
                         "description": "Typical amount a month; null when private to the caller"},
    "season_from": {"type": ["integer", "null"], "minimum": 1, "maximum": 12},
    "season_to": {"type": ["integer", "null"], "minimum": 1, "maximum": 12}}}
CERTIFICATION = {"type": "object", "properties": {
    "kind": {"type": "string", "enum": list(CERT_KINDS)}, "name": {**_TEXT, **max_length("cert_name")},
    "expires_on": {"type": ["string", "null"], "format": "date"},
    "document_id": {"type": ["integer", "null"],
                    "description": "A certificate uploaded with POST /profiles/{org_id}/certificates (a PDF "
                                   "or a photo of the paper), a picture uploaded with POST /attachments, "
                                   "or one already on the profile"},
    "document_url": {"type": ["string", "null"], "readOnly": True,
                     "description": "The certificate: a PDF opens in the browser's viewer, sandboxed"},
    "expired": {"type": "boolean", "readOnly": True}}}
PROFILE_INPUT = schema("ProfileInput", {"type": "object", "properties": {
    "description": {**_TEXT, **max_length("description")},
    "description_en": {**_TEXT, **max_length("description")},
    "contact_name": {**_TEXT, **max_length("contact_name")},
    "contact_phone": {**_TEXT, **max_length("phone")},
    "contact_languages": {"type": "array", "items": {"type": "string", "enum": list(SPOKEN)}},
    "export_markets": {"type": "array", "items": {"type": "string", "enum": list(MARKETS)}},
    "capacity_private": {"type": "boolean"},
    "show_track_record": {"type": "boolean", "description": "Show the computed track record on the profile"},
    "products": {"type": "array", "maxItems": services.MAX_PRODUCTS, "items": PRODUCT},
    "certifications": {"type": "array", "maxItems": services.MAX_CERTIFICATIONS, "items": CERTIFICATION},
    "photo_ids": {"type": "array", "items": {"type": "integer"}},
    "client_id": {"type": "string"}}})
TRACK = {"type": ["object", "null"], "description": (
    "Computed from SEC GO!'s orders (never typed in) over the last 12 months; the figures are null "
    f"below {services.MIN_DELIVERED} delivered orders (enough=false)"),
    "properties": {"first_month": _TEXT, "last_month": _TEXT, "delivered": {"type": "integer"},
                   "enough": {"type": "boolean"}, "minimum": {"type": "integer"},
                   "on_time_share": {"type": ["integer", "null"]},
                   "confirmed_share": {"type": ["integer", "null"]},
                   "resolve_hours_median": {"type": ["number", "null"]},
                   "customers": {"type": ["integer", "null"]}}}
PROFILE = schema("Profile", {"type": "object", "required": ["org_id", "name", "products", "certifications"],
                             "properties": {
    "org_id": {"type": "integer"}, "name": _TEXT, "country": {"type": "string", "enum": list(COUNTRIES)},
    "province": _TEXT, "cluster_id": {"type": ["integer", "null"]}, "cluster": {"type": ["string", "null"]}, "description": _TEXT,
    "description_en": _TEXT, "description_shown": _TEXT,
    "products": {"type": "array", "items": PRODUCT}, "certifications": {"type": "array", "items": CERTIFICATION},
    "export_markets": {"type": "array", "items": _TEXT}, "contact_name": _TEXT,
    "contact_phone": {**_TEXT, "description": "Only for the producer, its coordinators and buyers it deals with"},
    "contact_languages": {"type": "array", "items": _TEXT}, "capacity_private": {"type": "boolean"},
    "show_track_record": {"type": "boolean"}, "editable": {"type": "boolean"},
    "photo_ids": {"type": "array", "items": {"type": "integer"}}, "track_record": TRACK}})
ENQUIRY = schema("Enquiry", {"type": "object", "properties": {
    "id": {"type": "integer"}, "producer_org_id": {"type": "integer"}, "producer": _TEXT,
    "customer_org_id": {"type": "integer"}, "customer": _TEXT, "product": _TEXT,
    "quantity": {"type": ["number", "null"]}, "unit": _TEXT, "created_at": _TEXT, "updated_at": _TEXT,
    "unread": {"type": "boolean", "description": "In the list: news by someone else since the caller "
                                                   "last opened the thread's page"},
    "messages": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "author": {"type": ["string", "null"]}, "body": _TEXT,
        "created_at": _TEXT}}}}})
ENQUIRY_INPUT = schema("EnquiryInput", {"type": "object", "required": ["body"], "properties": {
    "body": {**_TEXT, **max_length("body")}, "product": {**_TEXT, **max_length("product")},
    "quantity": {"type": ["number", "string", "null"]}, "unit": {**_TEXT, **max_length("unit")},
    "client_id": _TEXT}})
REPLY_INPUT = schema("EnquiryReply", {"type": "object", "required": ["body"], "properties": {
    "body": {**_TEXT, **max_length("body")}, "client_id": _TEXT}})


def _json(schema_ref, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema_ref}}}


_ORG = {"name": "org_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ENQ = {"name": "enquiry_id", "in": "path", "required": True, "schema": {"type": "integer"}}
register("/profiles/{org_id}", {
    "get": {"summary": "A producer's profile (customers, coordinators, admins, and the producer's "
                       "own people); private fields only to the parties", "parameters": [_ORG],
            # 405: an id past the largest record id matches no route, and werkzeug then names
            # the path's other method as the one allowed (as for an order's documents).
            "responses": {"200": _json(PROFILE), **error_responses(401, 404, 405)}},
    "put": {"summary": "Replace a producer's profile (its own people, its coordinators, admins)",
            "parameters": [_ORG, IDEMPOTENCY_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {"schema": PROFILE_INPUT}}},
            "responses": {"200": _json(PROFILE), **error_responses(*WRITE_ERRORS, 403, 404, 405)}},
})
register("/profiles/{org_id}/certificates", {"post": {
    "summary": "Upload a certification's document (its producer's people, its coordinators, admins): "
               "a PDF (rewritten without scripts, forms, embedded files, actions and metadata; not "
               f"encrypted; at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB) or a photo of the paper "
               "(re-encoded); reference its id as a certification's document_id in PUT /profiles/{org_id}",
    "parameters": [_ORG, IDEMPOTENCY_PARAM],
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "contentMediaType": "application/pdf"}}}}}},
    "responses": {"201": _json({"type": "object", "properties": {
        "id": {"type": "integer"}, "mime": {"type": "string", "enum": ["application/pdf", "image/jpeg"]},
        "size": {"type": "integer"}, "url": _TEXT, "thumb_url": _TEXT}}, "Stored"),
        **error_responses(*WRITE_ERRORS, 403, 404)}}})
CLUSTER_PROFILE_INPUT = schema("ClusterProfileInput", {"type": "object", "properties": {
    "description": {**_TEXT, **max_length("description")},
    "description_en": {**_TEXT, **max_length("description")},
    "contact_name": {**_TEXT, **max_length("contact_name")},
    "contact_phone": {**_TEXT, **max_length("phone")},
    "contact_languages": {"type": "array", "items": {"type": "string", "enum": list(SPOKEN)}},
    "export_markets": {"type": "array", "items": {"type": "string", "enum": list(MARKETS)}},
    "client_id": {"type": "string"}}})
CLUSTER_PROFILE = schema("ClusterProfile", {"type": "object", "required": ["cluster_id", "name"], "properties": {
    "cluster_id": {"type": "integer"}, "name": _TEXT, "country": {"type": "string", "enum": list(COUNTRIES)},
    "province": _TEXT, "product": _TEXT, "description": _TEXT, "description_en": _TEXT,
    "description_shown": _TEXT, "export_markets": {"type": "array", "items": _TEXT},
    "contact_name": _TEXT, "contact_languages": {"type": "array", "items": _TEXT},
    "contact_phone": {**_TEXT, "description": "Only for the cluster's coordinators, admins and buyers "
                                              "that deal with one of its producers"},
    "editable": {"type": "boolean"}}})
_CLUSTER = {"name": "cluster_id", "in": "path", "required": True, "schema": {"type": "integer"}}
register("/clusters/{cluster_id}/profile", {
    "get": {"summary": "A cluster's own profile (customers, coordinators, admins); the phone only to "
                       "the parties", "parameters": [_CLUSTER],
            "responses": {"200": _json(CLUSTER_PROFILE), **error_responses(401, 404, 405)}},
    "put": {"summary": "Replace a cluster's profile (its coordinators, admins)",
            "parameters": [_CLUSTER, IDEMPOTENCY_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {"schema": CLUSTER_PROFILE_INPUT}}},
            "responses": {"200": _json(CLUSTER_PROFILE), **error_responses(*WRITE_ERRORS, 403, 404, 405)}},
})
register("/directory", {"get": {
    "summary": "Search producers (customers, coordinators, admins): words in any script, country, "
               "province, certification (not expired), capacity at least this much a month, cluster",
    "parameters": [{"name": n, "in": "query", "required": False, "schema": s} for n, s in (
        ("q", {"type": "string", **max_length("q")}), ("country", {"type": "string", "enum": list(COUNTRIES)}),
        ("province", {"type": "string", **max_length("province")}), ("certification", {"type": "string", "enum": list(CERT_KINDS)}),
        ("capacity", {"type": "number", "minimum": 0}), ("cluster", {"type": "integer"}),
        ("page", {"type": "integer", "minimum": 1}))],
    "responses": {"200": _json({"type": "object", "properties": {
        "items": {"type": "array", "items": PROFILE}, "total": {"type": "integer"},
        "page": {"type": "integer"}, "pages": {"type": "integer"}}}), **error_responses(401, 403, 422)}}})
register("/enquiries", {"get": {
    "summary": "Enquiries the caller may see (its organization's, or its clusters' producers')",
    "parameters": [{"name": "limit", "in": "query", "required": False, "schema": {"type": "integer"}},
                   {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer"}}],
    "responses": {"200": _json({"type": "object", "properties": {
        "items": {"type": "array", "items": ENQUIRY}, "total": {"type": "integer"}}}),
        **error_responses(401, 422)}}})
register("/profiles/{org_id}/enquiries", {"post": {
    "summary": "Send an enquiry to a producer (customers); the producer is notified",
    "parameters": [_ORG, IDEMPOTENCY_PARAM],
    "requestBody": {"required": True, "content": {"application/json": {"schema": ENQUIRY_INPUT}}},
    "responses": {"201": _json(ENQUIRY, "Created"), **error_responses(*WRITE_ERRORS, 403, 404)}}})
register("/enquiries/{enquiry_id}", {"get": {
    "summary": "An enquiry and its messages", "parameters": [_ENQ],
    "responses": {"200": _json(ENQUIRY), **error_responses(401, 404)}}})
register("/enquiries/{enquiry_id}/messages", {"post": {
    "summary": "Answer in an enquiry's thread; the other side is notified",
    "parameters": [_ENQ, IDEMPOTENCY_PARAM],
    "requestBody": {"required": True, "content": {"application/json": {"schema": REPLY_INPUT}}},
    "responses": {"201": _json({"type": "object"}, "Created"), **error_responses(*WRITE_ERRORS, 404)}}})
