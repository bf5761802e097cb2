"""The audit page: admins see every event, coordinators those of the organizations they manage."""
from datetime import date, datetime, time, timedelta

from flask import render_template, request
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..authz import roles_required
from ..extensions import db
from ..models import User
from . import bp, services

MAX_FILTER = 64


def _day(value: str, errors: dict, name: str):
    """The start of that day in the viewer's time zone, as UTC; None when empty."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors[name] = _("Give a date like 2026-11-28.")
        return None
    return datetime.combine(day, time.min, tzinfo=get_timezone())


@bp.get("/")
@roles_required("admin", "coordinator")
def index():
    args = {name: request.args.get(name, "")[:MAX_FILTER].strip()
            for name in ("action", "person", "since", "until")}
    errors = {}
    if args["action"] and args["action"] not in services.ACTIONS:
        errors["action"] = _("Choose an event from the list.")
    person = None
    if args["person"]:
        person = db.session.scalar(select(User).where(func.lower(User.username) == args["person"].lower()))
        if person is None:
            errors["person"] = _("Nobody has this login.")
    since = _day(args["since"], errors, "since")
    until = _day(args["until"], errors, "until")
    try:
        page = max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    if errors:
        rows, more, people, orgs = [], False, {}, {}
    else:
        rows, more, people, orgs = services.events(
            current_user, action=args["action"] or None, person=person, since=since,
            until=until + timedelta(days=1) if until else None, page=page)
    return render_template("audit/index.html", rows=rows, more=more, people=people, orgs=orgs,
                           args=args, errors=errors, page=page, actions=services.ACTIONS), (422 if errors else 200)
