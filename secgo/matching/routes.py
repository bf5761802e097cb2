"""Business matching pages: events, their matches, a match's steps, the impact report.

Thin views over secgo.matching.services; every write goes through secgo.writes.
"""
from flask import Response, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..authz import roles_required
from ..forms import choices
from ..writes import Write, submit
from . import bp, services
from .forms import EventForm, MatchForm, StageForm

STAFF = ("coordinator", "admin")
TEXTS = ("name", "place")  # a Zawgyi guess is asked about


def _show_errors(form, errors: dict, default: str) -> None:
    for name, message in errors.items():
        if name == "organization_ids":
            name = default
        field = getattr(form, name, None) or getattr(form, default)
        field.errors = [*field.errors, message]


def _event_data(posted) -> dict:
    """The form's fields, the producers and buyers chosen as one list of organization ids."""
    from ..admin.forms import number

    ids = [number(v) for name in ("producers", "buyers") for v in posted.getlist(name)]
    return {**posted.data, "organization_ids": ids}


# --- the list and an event ---------------------------------------------------------------------

@bp.get("/matching")
@login_required
def index():
    if current_user.role in STAFF:
        return render_template("matching/index.html", events=services.list_events(current_user),
                               matches=None)
    return render_template("matching/index.html", events=None,
                           matches=services.list_matches(current_user),
                           STAGE_LABELS=services.STAGE_LABELS)


def _event_page(event, form=None, status=200, message=None):
    matches = services.event_matches(current_user, event)
    form = form or MatchForm(formdata=None)
    mine = {o.id for o in services.participant_choices(current_user)["producers"]}
    form.buyer_org_id.choices = choices(
        [(0, "—")] + [(o.id, o.name) for o in event.organizations if o.kind == "customer"])
    form.producer_org_id.choices = choices(
        [(0, "—")] + [(o.id, o.name) for o in event.organizations if o.id in mine])
    return render_template("matching/event.html", event=event, matches=matches, form=form,
                           message=message, STAGE_LABELS=services.STAGE_LABELS), status


@bp.get("/matching/<int:event_id>")
@roles_required(*STAFF)
def event(event_id):
    return _event_page(services.get_event(current_user, event_id))


def _event_form_page(form, event, status=200, message=None, zawgyi=None):
    offered = services.participant_choices(current_user)
    form.producers.choices = choices((o.id, o.name) for o in offered["producers"])
    form.buyers.choices = choices((o.id, o.name) for o in offered["buyers"])
    return render_template("matching/event_form.html", form=form, event=event, message=message,
                           zawgyi=zawgyi or {}), status


def _save_event(posted, event_id, form):
    if event_id is None:
        event = services.create_event(current_user, _event_data(posted), client_id=posted.key)
        status = 201
    else:
        event = services.edit_event(current_user, services.get_event(current_user, event_id),
                                    _event_data(posted))
        status = 200
    return status, {"id": event.id}, url_for("matching.event", event_id=event.id)


def _event_refused(refusal, event_id, form):
    _show_errors(form, refusal.errors, "producers")
    event = services.get_event(current_user, event_id) if event_id else None
    return _event_form_page(form, event, refusal.status, None if refusal.errors else refusal.message,
                            refusal.zawgyi)


SAVE_EVENT = Write("matching.event", _save_event, texts=TEXTS, refused=_event_refused,
                   flash=_l("Event saved."))


@bp.route("/matching/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new():
    form = EventForm()
    if request.method == "POST":
        return submit(SAVE_EVENT, None, form)
    return _event_form_page(form, None)


@bp.route("/matching/<int:event_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit(event_id):
    event = services.get_event(current_user, event_id)
    form = EventForm()
    if request.method == "POST":
        return submit(SAVE_EVENT, event_id, form)
    form.name.data, form.place.data, form.held_on.data = event.name, event.place, event.held_on.isoformat()
    form.producers.data = [o.id for o in event.organizations if o.kind == "producer"]
    form.buyers.data = [o.id for o in event.organizations if o.kind == "customer"]
    return _event_form_page(form, event)


# --- matches -----------------------------------------------------------------------------------

def _add_match(posted, event):
    match = services.add_match(current_user, event, posted.data, client_id=posted.key)
    return 201, {"id": match.id}, url_for("matching.event", event_id=event.id)


def _match_refused(refusal, event):
    form = MatchForm()
    _show_errors(form, refusal.errors, "products")
    return _event_page(event, form, refusal.status, None if refusal.errors else refusal.message)


ADD_MATCH = Write("matching.match", _add_match, texts=("products", "note"), refused=_match_refused,
                  flash=_l("Match saved."))


@bp.post("/matching/<int:event_id>/matches")
@roles_required(*STAFF)
def add_match(event_id):
    return submit(ADD_MATCH, services.get_event(current_user, event_id))


def _match_page(match, form=None, status=200, message=None, edit_form=None):
    manage = services.can_manage(current_user, match)
    if edit_form is None:
        edit_form = MatchForm(formdata=None)
        edit_form.products.data, edit_form.note.data = match.products, match.note
    form = form or StageForm(formdata=None)
    form.stage.choices = choices((s, services.STAGE_LABELS[s]) for s in services.stage_choices(match))
    if form.on.data is None:
        form.on.data = services.now_day().isoformat()
    return render_template("matching/match.html", match=match, form=form, manage=manage,
                           message=message, edit_form=edit_form,
                           STAGE_LABELS=services.STAGE_LABELS), status


@bp.get("/matching/matches/<int:match_id>")
@login_required
def match(match_id):
    return _match_page(services.get_match(current_user, match_id))


def _move(posted, match):
    step = services.move(current_user, match, posted.data)
    return 201, {"id": match.id, "stage": match.stage, "step_id": step.id}, \
        url_for("matching.match", match_id=match.id)


def _move_refused(refusal, match):
    form = StageForm()
    _show_errors(form, refusal.errors, "stage")
    return _match_page(match, form, refusal.status, None if refusal.errors else refusal.message)


MOVE = Write("matching.stage", _move, texts=("reason",), refused=_move_refused,
             flash=_l("Stage saved."))


@bp.post("/matching/matches/<int:match_id>/stage")
@login_required
def move(match_id):
    return submit(MOVE, services.get_match(current_user, match_id))


def _edit_match(posted, match):
    services.edit_match(current_user, match, posted.data)
    return 200, {"id": match.id}, url_for("matching.match", match_id=match.id)


def _edit_refused(refusal, match):
    form = MatchForm()
    _show_errors(form, refusal.errors, "products")
    return _match_page(match, status=refusal.status, edit_form=form,
                       message=None if refusal.errors else refusal.message)


EDIT_MATCH = Write("matching.edit_match", _edit_match, texts=("products", "note"),
                   refused=_edit_refused, flash=_l("Match saved."))


@bp.post("/matching/matches/<int:match_id>")
@login_required
def edit_match(match_id):
    return submit(EDIT_MATCH, services.get_match(current_user, match_id))


# --- the impact report -------------------------------------------------------------------------

@bp.get("/matching/<int:event_id>/report")
@roles_required(*STAFF)
def report(event_id):
    event = services.get_event(current_user, event_id)
    data = services.report(current_user, event)
    from ..i18n.formatting import format_number

    # (label, value, value as shown): the dashboard's chart macro, with its table.
    chart = [(services.STAGE_LABELS[s], n, format_number(n)) for s, n in data["stages"].items()]
    return render_template("matching/report.html", event=event, r=data, chart=chart,
                           STAGE_LABELS=services.STAGE_LABELS)


@bp.get("/matching/<int:event_id>/report.csv")
@roles_required(*STAFF)
def report_csv(event_id):
    from ..audit.services import record
    from ..extensions import db

    event = services.get_event(current_user, event_id)
    body = services.report_csv(current_user, event)
    name = f"secgo-matching-{event.id}-{event.held_on}.csv"
    # A download of other people's trade data is in the account history (as the dashboard's).
    record("data_exported", details={"file": name})
    db.session.commit()
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Content-Type": "text/csv; charset=utf-8"})
