"""API v1 for business matching: events (list, create, read), matches (list, add, read, move
to another stage) and an event's impact report. The rules are secgo.matching.services'."""
from flask import jsonify, request

from ..limits import max_length
from ..matching import services
from ..models import MATCH_STAGES
from ..writes import Write, submit
from . import bp
from .openapi import IDEMPOTENCY_PARAM, WRITE_ERRORS, error_responses, ref, register, schema
from .routes import require_login


def _day(value):
    return value.isoformat() if value else None


def event_json(event, user, full=False) -> dict:
    """A matching event as the API shows it."""
    data = {"id": event.id, "name": event.name, "held_on": event.held_on.isoformat(),
            "place": event.place,
            "organizations": [{"id": o.id, "name": o.name, "kind": o.kind} for o in event.organizations]}
    if full:
        data["matches"] = [match_json(m) for m in services.event_matches(user, event)]
    return data


def match_json(match, full=False) -> dict:
    """A match as the API shows it."""
    data = {"id": match.id, "event_id": match.event_id,
            "buyer": {"id": match.buyer_org_id, "name": match.buyer_org.name},
            "producer": {"id": match.producer_org_id, "name": match.producer_org.name},
            "products": match.products, "note": match.note, "stage": match.stage,
            "stage_on": _day(match.stage_on), "first_order_on": _day(match.first_order_on),
            "repeat_order_on": _day(match.repeat_order_on)}
    if full:
        data["steps"] = [{"stage": s.stage, "on": _day(s.on), "reason": s.reason,
                          "order": s.order.reference if s.order else None,
                          "by": s.actor.display_name if s.actor else None} for s in match.steps]
    return data


@bp.get("/matching-events")
def matching_events_list():
    user = require_login()
    return jsonify({"items": [event_json(e, user) for e in services.list_events(user)]})


def _create_event(posted, user):
    event = services.create_event(user, posted.data, client_id=posted.key)
    return 201, event_json(event, user, full=True), f"/api/v1/matching-events/{event.id}"


CREATE_EVENT = Write("matching.event", _create_event, texts=("name", "place"), body="json")


@bp.post("/matching-events")
def matching_events_create():
    return submit(CREATE_EVENT, require_login())


@bp.get("/matching-events/<int:event_id>")
def matching_events_read(event_id):
    user = require_login()
    return jsonify(event_json(services.get_event(user, event_id), user, full=True))


def _add_match(posted, user, event):
    match = services.add_match(user, event, posted.data, client_id=posted.key)
    return 201, match_json(match, full=True), f"/api/v1/matches/{match.id}"


ADD_MATCH = Write("matching.match", _add_match, texts=("products", "note"), body="json")


@bp.post("/matching-events/<int:event_id>/matches")
def matching_events_add_match(event_id):
    user = require_login()
    return submit(ADD_MATCH, user, services.get_event(user, event_id))


@bp.get("/matching-events/<int:event_id>/report")
def matching_events_report(event_id):
    user = require_login()
    event = services.get_event(user, event_id)
    r = services.report(user, event)
    return jsonify({
        "event_id": event.id, "matches": r["count"], "first_order": r["first"], "repeat_order": r["repeat"],
        "first_order_share": r["first_share"], "repeat_order_share": r["repeat_share"],
        "median_days_to_first_order": r["median_days"], "stages": r["stages"], "orders": r["orders"],
        "value_by_currency": {c: str(v) for c, v in r["by_currency"].items()},
        "orders_without_value": r["unpriced"],
    })


@bp.get("/matches")
def matches_list():
    user = require_login()
    return jsonify({"items": [match_json(m) for m in services.list_matches(user, stage=request.args.get("stage"))]})


@bp.get("/matches/<int:match_id>")
def matches_read(match_id):
    user = require_login()
    return jsonify(match_json(services.get_match(user, match_id), full=True))


def _move(posted, user, match):
    services.move(user, match, posted.data)
    return 201, match_json(match, full=True), f"/api/v1/matches/{match.id}"


MOVE = Write("matching.stage", _move, texts=("reason",), body="json")


@bp.post("/matches/<int:match_id>/stage")
def matches_move(match_id):
    user = require_login()
    return submit(MOVE, user, services.get_match(user, match_id))


# --- the OpenAPI document --------------------------------------------------------------------

def _json(body):
    return {"content": {"application/json": {"schema": body}}}


_DAY = {"type": "string", "format": "date"}
_ORG = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
MATCH = schema("Match", {"type": "object", "required": ["id", "event_id", "buyer", "producer", "stage"],
                         "properties": {
    "id": {"type": "integer"}, "event_id": {"type": "integer"}, "buyer": _ORG, "producer": _ORG,
    "products": {"type": "string"}, "note": {"type": "string"},
    "stage": {"type": "string", "enum": list(MATCH_STAGES)}, "stage_on": _DAY,
    "first_order_on": {"type": ["string", "null"], "format": "date"},
    "repeat_order_on": {"type": ["string", "null"], "format": "date"},
    "steps": {"type": "array", "description": "Oldest first; `order` is the order that moved it on.",
              "items": {"type": "object", "properties": {
                  "stage": {"type": "string"}, "on": _DAY, "reason": {"type": "string"},
                  "order": {"type": ["string", "null"]}, "by": {"type": ["string", "null"]}}}},
}})
EVENT = schema("MatchingEvent", {"type": "object", "required": ["id", "name", "held_on"], "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "held_on": _DAY, "place": {"type": "string"},
    "organizations": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["producer", "customer"]}}}},
    "matches": {"type": "array", "items": ref("Match")},
}})
_EVENT_ID = {"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_MATCH_ID = {"name": "match_id", "in": "path", "required": True, "schema": {"type": "integer"}}
VISIBILITY = ("Events: coordinators of a cluster whose producer took part, and admins. Matches: "
              "the same coordinators (their clusters' producers' matches), admins, and the "
              "match's buyer and producer (read only).")

register("/matching-events", {
    "get": {"summary": "Matching events the caller may see, the latest first", "description": VISIBILITY,
            "responses": {"200": {"description": "Events", **_json({"type": "object", "properties": {
                "items": {"type": "array", "items": EVENT}}})}, **error_responses(401)}},
    "post": {"summary": "Record a matching event (coordinators, admins)",
             "parameters": [IDEMPOTENCY_PARAM],
             "requestBody": {"required": True, **_json({
                 "type": "object", "required": ["name", "held_on", "organization_ids"], "properties": {
                     "name": {"type": "string", **max_length("event_name")}, "held_on": _DAY,
                     "place": {"type": "string", **max_length("place")},
                     "organization_ids": {"type": "array", "items": {"type": "integer"},
                                          "maxItems": services.MAX_PARTICIPANTS,
                                          "description": "Producers of the caller's clusters and "
                                                         "buyers who took part; at least one producer."}}})},
             "responses": {"201": {"description": "The event", **_json(EVENT)},
                           **error_responses(*WRITE_ERRORS, 403)}},
})
register("/matching-events/{event_id}", {"get": {
    "summary": "One event with the matches the caller may see", "parameters": [_EVENT_ID],
    "responses": {"200": {"description": "The event", **_json(EVENT)}, **error_responses(401, 404)}}})
register("/matching-events/{event_id}/matches", {"post": {
    "summary": "Add a match: a buyer and a producer of the event",
    "description": "Orders the pair placed since the event move it on at once.",
    "parameters": [_EVENT_ID, IDEMPOTENCY_PARAM],
    "requestBody": {"required": True, **_json({
        "type": "object", "required": ["buyer_org_id", "producer_org_id", "products"], "properties": {
            "buyer_org_id": {"type": "integer"}, "producer_org_id": {"type": "integer"},
            "products": {"type": "string", **max_length("products")},
            "note": {"type": "string", **max_length("note")}}})},
    "responses": {"201": {"description": "The match", **_json(MATCH)},
                  **error_responses(*WRITE_ERRORS, 403, 404)}}})
register("/matching-events/{event_id}/report", {"get": {
    "summary": "The event's impact report, over the matches the caller may see",
    "description": "Shares in whole percent (null without matches); days to the first order from "
                   "the event's day; order value per currency of the orders between matched pairs "
                   "placed since the event (cancelled ones left out), as decimal strings.",
    "parameters": [_EVENT_ID],
    "responses": {"200": {"description": "The report", **_json({"type": "object", "properties": {
        "event_id": {"type": "integer"}, "matches": {"type": "integer"},
        "first_order": {"type": "integer"}, "repeat_order": {"type": "integer"},
        "first_order_share": {"type": ["integer", "null"]}, "repeat_order_share": {"type": ["integer", "null"]},
        "median_days_to_first_order": {"type": ["number", "null"]},
        "stages": {"type": "object", "additionalProperties": {"type": "integer"}},
        "orders": {"type": "integer"}, "orders_without_value": {"type": "integer"},
        "value_by_currency": {"type": "object", "additionalProperties": {"type": "string"}}}})},
        **error_responses(401, 404)}}})
register("/matches", {"get": {
    "summary": "Matches the caller may see (a buyer's or producer's own), the latest first",
    "description": VISIBILITY,
    "parameters": [{"name": "stage", "in": "query", "required": False,
                    "schema": {"type": "string", "enum": list(MATCH_STAGES)}}],
    "responses": {"200": {"description": "Matches", **_json({"type": "object", "properties": {
        "items": {"type": "array", "items": MATCH}}})}, **error_responses(401)}}})
register("/matches/{match_id}", {"get": {
    "summary": "One match with its steps", "parameters": [_MATCH_ID],
    "responses": {"200": {"description": "The match", **_json(MATCH)}, **error_responses(401, 404)}}})
register("/matches/{match_id}/stage", {"post": {
    "summary": "Move a match to another stage (its producer's coordinators, admins)",
    "description": "`on` defaults to today, may not be in the future nor before the event; "
                   "`reason` is required for `dropped`. 403 for the match's buyer or producer.",
    "parameters": [_MATCH_ID, IDEMPOTENCY_PARAM],
    "requestBody": {"required": True, **_json({
        "type": "object", "required": ["stage"], "properties": {
            "stage": {"type": "string", "enum": list(MATCH_STAGES)}, "on": _DAY,
            "reason": {"type": "string", **max_length("reason")}}})},
    "responses": {"201": {"description": "The match", **_json(MATCH)},
                  **error_responses(*WRITE_ERRORS, 403, 404)}}})
