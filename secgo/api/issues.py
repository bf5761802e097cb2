"""API v1 for issues: list and filter, raise, read, comment, transition."""
from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from .. import phrases
from ..attachments.services import MAX_PHOTOS
from ..attachments.voice import load_voices
from ..errors import ApiError
from ..ids import id_value
from ..issues import services
from ..limits import max_length
from ..models import CATEGORIES, SEVERITIES, STATES
from ..orders.services import get_order
from ..writes import Write, submit
from . import bp
from .openapi import (IDEMPOTENCY_PARAM, MORE_PROPERTY, UNREAD_NOTE, WRITE_ERRORS, error_responses,
                      ref, register, schema)
from .orders import (PHRASE, VOICE, ZAWGYI, ZAWGYI_NOTE, encoding_field, phrases_in, voice_json,
                     with_voice)
from .routes import require_login

MAX_LIMIT = 100


def _when(value):
    return value.isoformat() if value else None


def issue_json(issue, user, full=False) -> dict:
    """An issue as the API shows it."""
    if full:
        services.load_conversation(issue)
    order = issue.order
    data = {
        "id": issue.id,
        "order": order.reference,
        "category": issue.category,
        "severity": issue.severity,
        "state": issue.state,
        "title": issue.shown_title,
        "title_phrase": phrases.one_json(issue.title_phrase),
        "description": issue.description,
        "phrases": phrases.as_json(issue.phrases),
        "update_id": issue.update_id,
        "raised_by": issue.raised_by.display_name if issue.raised_by else issue.raised_by_label,
        "raised_by_side": issue.raised_by_side,
        "assignee_id": issue.assignee_id,
        "resolution_note": issue.resolution_note,
        "created_at": _when(issue.created_at),
        "updated_at": _when(issue.updated_at),
        "first_response_at": _when(issue.first_response_at),
        "acknowledged_at": _when(issue.acknowledged_at),
        "resolved_at": _when(issue.resolved_at),
        "closed_at": _when(issue.closed_at),
        "cluster_id": order.producer_org.cluster_id,
        "border_crossing": order.border_crossing,
        "photo_ids": [p.id for p in issue.photos],
        "voice": voice_json(issue.voice),
    }
    if full:
        data["allowed_actions"] = services.allowed_actions(issue, user)
        data["comments"] = [
            {"id": c.id, "author": c.author.display_name if c.author else c.author_label,
             "body": c.body, "phrases": phrases.as_json(c.phrases),
             "created_at": _when(c.created_at), "photo_ids": [p.id for p in c.photos],
             "voice": voice_json(c.voice)}
            for c in issue.comments
        ]
        data["events"] = [
            {"id": e.id, "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
             "actor": e.actor.display_name if e.actor else None, "actor_side": e.actor_side,
             "assignee_id": e.assignee_id, "note": e.note, "created_at": _when(e.created_at)}
            for e in issue.events
        ]
    return data


@bp.get("/issues")
def issues_list():
    user = require_login()
    tab = request.args.get("tab", "all")
    if tab not in services.TABS:
        raise ApiError(422, fields={"tab": _l("Use waiting, mine or all.")})
    limit = request.args.get("limit", "50")
    offset = request.args.get("offset", "0")
    if not (limit.isdecimal() and offset.isdecimal() and len(limit) < 6 and len(offset) < 10):
        raise ApiError(422, fields={"limit": _l("Use whole numbers.")})
    limit = min(max(int(limit), 1), MAX_LIMIT)
    items, total, more, unread = services.list_issues(
        user, tab, services.parse_filters(request.args), limit=limit, offset=int(offset)
    )
    load_voices(items)
    return jsonify({"items": [{**issue_json(i, user), "unread": i.id in unread} for i in items],
                    "total": total, "more": more, "limit": limit, "offset": int(offset)})


def _raise(posted, user, order):
    data = posted.data
    issue = services.raise_issue(
        order, user, category=data.get("category"), severity=data.get("severity"),
        title=data.get("title"), description=data.get("description"),
        photos=posted.photos(user), client_id=posted.key, voice=posted.voice(user),
        phrases=phrases.read(data, phrases.ISSUE, unit=order.unit),
        update=services.update_on(order, id_value(data.get("update_id"), "update_id")),
    )
    return 201, issue_json(issue, user, full=True), f"/api/v1/issues/{issue.id}"


RAISE = Write("issue.raise", _raise, texts=("title", "description"), body="json")


@bp.post("/orders/<reference>/issues")
def issues_create(reference):
    user = require_login()
    return submit(RAISE, user, get_order(user, reference))


@bp.get("/issues/<int:issue_id>")
def issues_read(issue_id):
    user = require_login()
    return jsonify(issue_json(services.get_issue(user, issue_id), user, full=True))


def _comment(posted, user, issue):
    c = services.add_comment(issue, user, posted.data.get("body"), photos=posted.photos(user),
                             client_id=posted.key, data=posted.data, voice=posted.voice(user))
    return 201, {"id": c.id, "issue_id": issue.id, "body": c.body, "voice": voice_json(c.voice),
                 "phrases": phrases.as_json(c.phrases),
                 "created_at": _when(c.created_at)}, f"/api/v1/issues/{issue.id}"


COMMENT = Write("issue.comment", _comment, texts=("body",), body="json")


@bp.post("/issues/<int:issue_id>/comments")
def issues_comment(issue_id):
    user = require_login()
    return submit(COMMENT, user, services.get_issue(user, issue_id))


def _transition(posted, user, issue):
    data = posted.data
    event = services.transition(
        issue, user, data.get("action"), note=data.get("note"),
        assignee_id=id_value(data.get("assignee_id"), "assignee_id"), client_id=posted.key,
    )
    return 201, {"issue": issue_json(issue, user), "event_id": event.id}, f"/api/v1/issues/{issue.id}"


TRANSITION = Write("issue.transition", _transition, body="json")


@bp.post("/issues/<int:issue_id>/transitions")
def issues_transition(issue_id):
    user = require_login()
    return submit(TRANSITION, user, services.get_issue(user, issue_id))


# --- OpenAPI ------------------------------------------------------------------------------

_ISSUE = schema("Issue", {
    "type": "object",
    "required": ["id", "order", "category", "severity", "state", "title", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "order": {"type": "string", "description": "Order reference"},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "state": {"type": "string", "enum": list(STATES)},
        "title": {"type": "string", **max_length("title"),
                  "description": "In the caller's language when the app composed it"},
        "title_phrase": {"oneOf": [PHRASE, {"type": "null"}],
                         "description": "A title the app composed (a delivery that was not "
                                        "right, a quick phrase, an update that is not right)"},
        "description": {"type": "string"},
        "phrases": {"type": "array", "items": PHRASE},
        "update_id": {"type": ["integer", "null"],
                      "description": "The status update this issue says is not right"},
        "raised_by": {"type": ["string", "null"]},
        "raised_by_side": {"type": "string"},
        "assignee_id": {"type": ["integer", "null"]},
        "resolution_note": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "first_response_at": {"type": ["string", "null"], "format": "date-time"},
        "acknowledged_at": {"type": ["string", "null"], "format": "date-time"},
        "resolved_at": {"type": ["string", "null"], "format": "date-time"},
        "closed_at": {"type": ["string", "null"], "format": "date-time"},
        "cluster_id": {"type": ["integer", "null"]},
        "border_crossing": {"type": ["string", "null"]},
        "photo_ids": {"type": "array", "items": {"type": "integer"}},
        "voice": VOICE,
        "unread": {"type": "boolean", "description": UNREAD_NOTE},
        "allowed_actions": {"type": "array", "items": {"type": "string", "enum": list(services.ACTIONS)}},
        "comments": {"type": "array", "items": {"type": "object"}},
        "events": {"type": "array", "items": {"type": "object"}},
        "zawgyi_suggestion": ZAWGYI,
    },
})
_NEW_ISSUE = schema("NewIssue", {
    "type": "object",
    "required": ["category", "severity", "title"],
    "properties": {
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "title": {"type": "string", **max_length("title"),
                  "description": "May be left out when quick phrases or update_id are sent: "
                                 "the title is then the first phrase (or \"not right: the "
                                 "update ...\"), shown in each reader's language"},
        **encoding_field("title"),
        "description": {"type": "string", **max_length("description")},
        **encoding_field("description"),
        "photo_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": MAX_PHOTOS},
        "update_id": {"type": "integer", "description": "A status update of this order that is not right"},
        **phrases_in(phrases.ISSUE),
    },
})
_NEW_COMMENT = schema("NewIssueComment", {
    "type": "object", "required": ["body"],
    "properties": {"body": {"type": "string", **max_length("body"),
                            "description": "May be empty with photos, a voice note or quick phrases"},
                   **encoding_field("body"),
                   "photo_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": MAX_PHOTOS},
                   **phrases_in(phrases.COMMENT)},
})
_TRANSITION = schema("IssueTransition", {
    "type": "object", "required": ["action"],
    "properties": {
        "action": {"type": "string", "enum": list(services.ACTIONS)},
        "note": {"type": "string", **max_length("note"),
                 "description": "Required for resolve (what was done) and reopen (why not fixed)."},
        "assignee_id": {"type": "integer", "description": "For reassign (coordinators, admins)."},
    },
})


def _json(schema_ref):
    return {"content": {"application/json": {"schema": schema_ref}}}


_FILTER_PARAMS = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
    for name in ("tab", *services.FILTERS, "limit", "offset")
]
_ID = {"name": "issue_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_REF = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}

register("/issues", {"get": {
    "summary": "Issues the caller may see (tab: waiting, mine, all; filters)",
    "description": "Each item has `unread`. `waiting`: what waits for the caller — for a "
                   "customer, the producer's issues it has not acknowledged, its own open ones "
                   "the other side has answered, and its own resolved ones to close or reopen.",
    "parameters": _FILTER_PARAMS,
    "responses": {"200": {"description": "A page of issues", **_json({
        "type": "object", "properties": {"items": {"type": "array", "items": ref("Issue")},
                                         "total": {"type": "integer"}, **MORE_PROPERTY}})},
        **error_responses(401, 422)},
}})
register("/orders/{reference}/issues", {"post": {
    "summary": "Raise an issue on an order",
    "description": ZAWGYI_NOTE,
    "parameters": [_REF, IDEMPOTENCY_PARAM],
    "requestBody": with_voice(_NEW_ISSUE),
    "responses": {"201": {"description": "The new issue", **_json(_ISSUE)},
                  **error_responses(*WRITE_ERRORS, 403, 404)},
}})
register("/issues/{issue_id}", {"get": {
    "summary": "One issue with its comments, history and the caller's allowed actions",
    "parameters": [_ID],
    "responses": {"200": {"description": "The issue", **_json(_ISSUE)}, **error_responses(401, 404)},
}})
register("/issues/{issue_id}/comments", {"post": {
    "summary": "Add a message to an issue's thread",
    "description": ZAWGYI_NOTE,
    "parameters": [_ID, IDEMPOTENCY_PARAM],
    "requestBody": with_voice(_NEW_COMMENT),
    "responses": {"201": {"description": "The comment", **_json({
        "type": "object", "properties": {"zawgyi_suggestion": ZAWGYI}})},
                  **error_responses(*WRITE_ERRORS, 403, 404)},
}})
register("/issues/{issue_id}/transitions", {"post": {
    "summary": "Acknowledge, resolve, close, reopen or reassign an issue",
    "description": "403 when the caller's role may not take this action; 409 when the issue's "
                   "state does not allow it now.",
    "parameters": [_ID, IDEMPOTENCY_PARAM],
    "requestBody": {"required": True, **_json(_TRANSITION)},
    "responses": {"201": {"description": "The issue after the transition"},
                  **error_responses(*WRITE_ERRORS, 403, 404)},
}})
