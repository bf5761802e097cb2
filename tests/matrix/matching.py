"""Business matching routes (secgo/matching, secgo/api/matching.py).

Each row makes a fresh event (farm and buyer took part, rice cluster) or a fresh match
(buyer x farm) once per row and role. Events are the staff's: the rice coordinator and admin
see them, silk's coordinator gets 404, producers and buyers 403 on the pages (404 through the
API, where an event is a record they may not see). A match is also its two organizations'
to read (not to move on).
"""
from datetime import date, timedelta

from .common import Row, api, as_json, form, logged_in, order_side

PLACE = "Matrix Hall"  # on the staff's list of events only
PRODUCTS = "Matrix jasmine rice"  # on the list of matches of those who may see the match
STAFF_SEES = ("coordinator", "admin")
MATCH_SEES = ("producer", "customer", "coordinator", "admin")


def make_event(world, with_match=False):
    """A new event with the world's farm and buyer (and a match between them); its id (or the
    match's)."""
    from secgo.extensions import db
    from secgo.models import Match, MatchingEvent, MatchStep, Organization

    held = date.today() - timedelta(days=30)
    event = MatchingEvent(name="Matrix forum", place=PLACE, held_on=held, organizations=[
        db.session.get(Organization, world.orgs["farm"]), db.session.get(Organization, world.orgs["buyer"])])
    db.session.add(event)
    db.session.flush()
    if not with_match:
        db.session.commit()
        return event.id
    match = Match(event_id=event.id, buyer_org_id=world.orgs["buyer"], producer_org_id=world.orgs["farm"],
                  products=PRODUCTS, stage="matched", stage_on=held)
    db.session.add(match)
    db.session.flush()
    db.session.add(MatchStep(match_id=match.id, stage="matched", on=held))
    db.session.commit()
    return match.id


def _event(suffix="", prefix=""):
    return lambda w: f"{prefix}/matching/{make_event(w)}{suffix}" if not prefix else \
        f"{prefix}/matching-events/{make_event(w)}{suffix}"


def _match(suffix="", prefix=""):
    return lambda w: f"{prefix}/matching/matches/{make_event(w, True)}{suffix}" if not prefix else \
        f"{prefix}/matches/{make_event(w, True)}{suffix}"


def _listed(path, with_match=False):
    def url(world):
        make_event(world, with_match)
        return path
    return url


def _staff(ok, others=403, anon=302):
    """An event page: the rice coordinator and admin; silk's coordinator never learns of it."""
    return {**logged_in(others, anon=anon), "coordinator": ok, "admin": ok, "other_coordinator": 404}


def _event_form(world):
    return {"name": "Forum", "held_on": date.today().isoformat(), "place": "Hall",
            "producers": [str(world.orgs["farm"])], "buyers": [str(world.orgs["buyer"])]}


def _match_form(world):
    return {"buyer_org_id": str(world.orgs["buyer"]), "producer_org_id": str(world.orgs["farm"]),
            "products": "Rice"}


API = "/api/v1"
ROUTES = {
    "matching.index": Row("GET", _listed("/matching"), logged_in(200), shows=(PLACE, STAFF_SEES)),
    "matching.new": ("GET", "/matching/new", {**logged_in(403), "coordinator": 200, "admin": 200,
                                              "other_coordinator": 200}, None),
    "matching.event": ("GET", _event(), _staff(200), None),
    "matching.edit": ("POST", _event("/edit"), _staff(303), form(_event_form)),
    "matching.add_match": ("POST", _event("/matches"), _staff(303), form(_match_form)),
    "matching.report": ("GET", _event("/report"), _staff(200), None),
    "matching.report_csv": ("GET", _event("/report.csv"), _staff(200), None),
    "matching.match": ("GET", _match(), order_side(200), None),
    "matching.edit_match": ("POST", _match(), order_side(303, producer=403, customer=403),
                            {"products": "Rice, bran"}),
    "matching.move": ("POST", _match("/stage"), order_side(303, producer=403, customer=403),
                      {"stage": "contacted"}),
    "api.matching_events_list": Row("GET", _listed(f"{API}/matching-events"), api(200),
                                    shows=(PLACE, STAFF_SEES)),
    "api.matching_events_create": (
        "POST", f"{API}/matching-events",
        # Silk's coordinator may not put the rice farm on an event: it is not offered (422).
        {**api(403), "coordinator": 201, "admin": 201, "other_coordinator": 422},
        as_json(lambda w: {"name": "Forum", "held_on": date.today().isoformat(),
                           "organization_ids": [w.orgs["farm"], w.orgs["buyer"]]})),
    "api.matching_events_read": ("GET", _event(prefix=API), _staff(200, others=404, anon=401), None),
    "api.matching_events_add_match": ("POST", _event("/matches", prefix=API),
                                      _staff(201, others=404, anon=401),
                                      as_json(lambda w: {"buyer_org_id": w.orgs["buyer"],
                                                         "producer_org_id": w.orgs["farm"],
                                                         "products": "Rice"})),
    "api.matching_events_report": ("GET", _event("/report", prefix=API), _staff(200, others=404, anon=401),
                                   None),
    "api.matches_list": Row("GET", _listed(f"{API}/matches", True), api(200), shows=(PRODUCTS, MATCH_SEES)),
    "api.matches_read": ("GET", _match(prefix=API), order_side(200, anon=401), None),
    "api.matches_move": ("POST", _match("/stage", prefix=API),
                         order_side(201, producer=403, customer=403, anon=401),
                         as_json({"stage": "contacted"})),
}
UNIFORM = {}
