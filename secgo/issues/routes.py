"""Issue pages: the list, one issue with its thread and history, raising one on an order."""
from flask import render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..authz import visible_orders_clause
from ..errors import ApiError, wants_json
from ..extensions import db
from ..i18n import ZawgyiQuestion, check_zawgyi, zawgyi_answer
from ..idempotency import new_client_id, request_key, run_once
from ..models import CATEGORIES, Cluster, Order, Organization, utcnow
from ..orders.services import get_order
from ..web import done, refuse_form
from . import bp, services
from .forms import CommentForm, RaiseIssueForm

PAGE_SIZE = 50


def _user_key() -> str:
    return f"u{current_user.id}"


def visible_clusters(user) -> list[Cluster]:
    """Clusters of the producers whose orders the user may see (for the filter)."""
    ids = select(Organization.cluster_id).join(
        Order, Order.producer_org_id == Organization.id
    ).where(visible_orders_clause(user))
    if user.role in ("coordinator", "admin"):
        ids = [c.id for c in user.clusters] if user.role == "coordinator" else select(Cluster.id)
    return list(db.session.scalars(select(Cluster).where(Cluster.id.in_(ids)).order_by(Cluster.name)))


@bp.get("/issues")
@login_required
def index():
    tab = request.args.get("tab", "waiting")
    if tab not in services.TABS:
        tab = "waiting"
    filters = services.parse_filters(request.args)
    page = request.args.get("page", "1")
    page = int(page) if page.isdecimal() and 0 < len(page) < 6 else 1
    issues, total = services.list_issues(
        current_user, tab, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "issues/index.html", issues=issues, total=total, tab=tab, filters=filters, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), clusters=visible_clusters(current_user), now=utcnow(),
    )


def _timeline(issue):
    items = [("event", e.created_at, e) for e in issue.events]
    items += [("comment", c.created_at, c) for c in issue.comments]
    return sorted(items, key=lambda item: (item[1], item[0] == "comment"))


def _detail_page(issue, comment_form=None, error=None, status=200, failed_action=None,
                 zawgyi=None, comment_client_id=None):
    actions = services.allowed_actions(issue, current_user)
    return render_template(
        "issues/detail.html", issue=issue, timeline=_timeline(issue), actions=actions,
        comment_form=comment_form or CommentForm(formdata=None),
        assignees=services.assignee_choices(issue) if "reassign" in actions else [],
        note_required=services.note_required, error=error, failed_action=failed_action,
        new_client_id=new_client_id, now=utcnow(), ACTION_LABELS=services.ACTION_LABELS,
        EVENT_LABELS=services.EVENT_LABELS, zawgyi=zawgyi or {},
        comment_client_id=comment_client_id,
    ), status


@bp.get("/issues/<int:issue_id>")
@login_required
def detail(issue_id):
    return _detail_page(services.get_issue(current_user, issue_id))


@bp.post("/issues/<int:issue_id>/comments")
@login_required
def comment(issue_id):
    issue = services.get_issue(current_user, issue_id)
    form = CommentForm()
    key = request_key()
    files = request.files.getlist("photos")
    payload = {"body": form.body.data, "photos": [f.filename for f in files if f]}
    texts = request.form.to_dict()
    doubts = {}

    def action():
        from ..attachments.services import photos_from_request

        photos = photos_from_request(current_user, files)
        c = services.add_comment(issue, current_user, texts.get("body") or "", photos=photos,
                                 client_id=key)
        # No #fragment: the outbox reloads the page only when the location is this page.
        location = url_for("issues.detail", issue_id=issue.id)
        return 201, {"id": c.id, "issue_id": issue.id, **zawgyi_answer(doubts)}, location

    try:
        doubts = check_zawgyi(texts, ("body",))
        status, body, location = run_once(_user_key(), key, f"issue.comment:{issue.id}", payload, action)
    except ZawgyiQuestion as err:
        return _detail_page(issue, comment_form=form, error=err.to_dict()["error"]["message"],
                            status=422, zawgyi=err.doubts, comment_client_id=key)
    except ApiError as err:
        if wants_json() or not err.fields:
            raise
        for name, message in err.fields.items():
            getattr(form, name if hasattr(form, name) else "body").errors.append(message)
        issue = services.get_issue(current_user, issue_id)
        return _detail_page(issue, comment_form=form, status=err.status, zawgyi=doubts)
    return done(location, status, body)


@bp.post("/issues/<int:issue_id>/transitions")
@login_required
def transition(issue_id):
    issue = services.get_issue(current_user, issue_id)
    key = request_key()
    data = {name: request.form.get(name, "") for name in ("action", "note", "assignee")}

    def act():
        event = services.transition(issue, current_user, data["action"], note=data["note"],
                                    assignee_id=data["assignee"] or None, client_id=key)
        location = url_for("issues.detail", issue_id=issue.id)
        return 201, {"issue_id": issue.id, "state": event.to_state, "event_id": event.id}, location

    try:
        status, body, location = run_once(_user_key(), key, f"issue.transition:{issue.id}", data, act)
    except ApiError as err:
        if wants_json():
            raise
        issue = services.get_issue(current_user, issue_id)
        message = next(iter(err.fields.values()), None) if err.fields else None
        return _detail_page(issue, error=str(message or err.to_dict()["error"]["message"]),
                            status=err.status, failed_action=data["action"])
    return done(location, status, body)


@bp.route("/orders/<reference>/issues/new", methods=["GET", "POST"])
@login_required
def new(reference):
    order = get_order(current_user, reference)
    form = RaiseIssueForm()
    if request.method == "GET":
        if request.args.get("category") in CATEGORIES:
            form.category.data = request.args["category"]
        return render_template("issues/new.html", form=form, order=order)
    if not form.validate():
        refuse_form(form)
        return render_template("issues/new.html", form=form, order=order), 422
    key = request_key()
    files = request.files.getlist("photos")
    payload = {name: getattr(form, name).data for name in ("category", "severity", "title", "description")}
    payload["photos"] = [f.filename for f in files if f]
    texts = request.form.to_dict()
    doubts = {}

    def action():
        from ..attachments.services import photos_from_request

        photos = photos_from_request(current_user, files)
        issue = services.raise_issue(
            order, current_user, category=form.category.data, severity=form.severity.data,
            title=texts.get("title") or "", description=texts.get("description") or "",
            photos=photos, client_id=key,
        )
        return 201, {"id": issue.id, **zawgyi_answer(doubts)}, url_for("issues.detail", issue_id=issue.id)

    try:
        doubts = check_zawgyi(texts, ("title", "description"))
        status, body, location = run_once(_user_key(), key, f"issue.raise:{order.id}", payload, action)
    except ZawgyiQuestion as err:
        return render_template("issues/new.html", form=form, order=order, zawgyi=err.doubts,
                               message=err.to_dict()["error"]["message"]), 422
    except ApiError as err:
        if wants_json() or not err.fields:
            raise
        for name, message in err.fields.items():
            getattr(form, name if hasattr(form, name) else "photos").errors.append(message)
        return render_template("issues/new.html", form=form, order=order, zawgyi=doubts), err.status
    return done(location, status, body)
