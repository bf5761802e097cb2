"""Issue pages: the list, one issue with its thread and history, raising one on an order."""
from flask import current_app, get_template_attribute, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from .. import readmarks
from ..assets import Recent
from ..clock import LATER_ENVIRON, later
from ..counting import page_count
from .. import phrases
from ..authz import visible_orders_clause
from ..errors import ApiError
from ..extensions import db
from ..idempotency import new_client_id
from ..models import CATEGORIES, Cluster, Order, Organization
from ..orders.services import get_order
from ..pagecache import cached_page
from ..writes import Write, refuse_form, submit
from . import bp, services
from .forms import CommentForm, RaiseIssueForm

PAGE_SIZE = 20  # as the orders list: a page a phone on 2G draws at once


def visible_clusters(user) -> list[Cluster]:
    """Clusters of the producers whose orders the user may see (for the filter): one query."""
    if user.role == "coordinator":  # their clusters, loaded once per request (the dashboard's scope too)
        return sorted(user.clusters, key=lambda c: (c.name, c.id))
    if user.role == "admin":
        ids = select(Cluster.id)
    else:
        ids = select(Organization.cluster_id).join(
            Order, Order.producer_org_id == Organization.id
        ).where(visible_orders_clause(user))
    return list(db.session.scalars(select(Cluster).where(Cluster.id.in_(ids)).order_by(Cluster.name)))


@bp.get("/issues")
@login_required
@cached_page("issues")
def index():
    tab = request.args.get("tab", "waiting")
    if tab not in services.TABS:
        tab = "waiting"
    filters = services.parse_filters(request.args)
    page = request.args.get("page", "1")
    page = int(page) if page.isdecimal() and 0 < len(page) < 6 else 1
    issues, total, more, unread = services.list_issues(
        current_user, tab, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
        load=services.LIST_ITEM,
    )
    return render_template(
        "issues/index.html", issues=issues, total=total, more=more, tab=tab, filters=filters, page=page,
        pages=page_count(total, PAGE_SIZE, page, more), clusters=visible_clusters(current_user),
        issue_row=issue_rows(unread),
    )


ROWS_KEPT_BYTES = 2 * 1024 * 1024  # per process: some 2,500 rows (about 800 bytes each)


def issue_rows(unread):
    """issue -> its HTML in the issues list (templates/issues/_row.html), written once per
    process for what the row shows: every value of the row is in the key, with the viewer's
    language and whether it has news for them. Its age is a place the page cache fills as
    each answer is served (secgo.clock.later) when the page is kept so; otherwise it is
    written in words that change with the clock, and such a row is written anew each time."""
    macro = get_template_attribute("issues/_row.html", "issue_row")
    kept = current_app.extensions.setdefault("secgo.issue_rows", Recent(ROWS_KEPT_BYTES))
    locale = str(get_locale())
    places = request.environ.get(LATER_ENVIRON)

    def row_html(issue) -> Markup:
        news = issue.id in unread
        if issue.closed_at is None and places is None:
            return Markup(macro(issue, news))
        order = issue.order
        key = (issue.id, issue.shown_title, issue.state, issue.severity, issue.category, issue.created_at,
               issue.closed_at, issue.first_response_at is None, order.reference, order.producer_org.name,
               order.customer_org.name, order.border_crossing, news, locale, places)
        html = kept.get_or_make(key, lambda: str(macro(issue, news)))
        if issue.closed_at is None:  # the page has a place to fill, kept row or not (as writing it marks)
            later("since", issue.created_at)
        return Markup(html)

    return row_html


def _timeline(issue):
    services.load_conversation(issue)
    items = [("event", e.created_at, e) for e in issue.events]
    items += [("comment", c.created_at, c) for c in issue.comments]
    return sorted(items, key=lambda item: (item[1], item[0] == "comment"))


def _detail_page(issue, comment_form=None, error=None, status=200, failed_action=None,
                 zawgyi=None, comment_client_id=None, last_seen=None):
    actions = services.allowed_actions(issue, current_user)
    return render_template(
        "issues/detail.html", issue=issue, timeline=_timeline(issue), actions=actions,
        likely=services.likely_action(issue, actions), last_seen=last_seen,
        comment_form=comment_form or CommentForm(formdata=None),
        assignees=services.assignee_choices(issue) if "reassign" in actions else [],
        note_required=services.note_required, error=error, failed_action=failed_action,
        new_client_id=new_client_id, ACTION_LABELS=services.ACTION_LABELS,
        EVENT_LABELS=services.EVENT_LABELS, zawgyi=zawgyi or {},
        comment_client_id=comment_client_id,
    ), status


@bp.get("/issues/<int:issue_id>")
@login_required
def detail(issue_id):
    issue = services.get_issue(current_user, issue_id)
    # Opening the page marks the issue seen; the conversation marks what is new since last time.
    return _detail_page(issue, last_seen=readmarks.visit(current_user, "issue", issue))


def _form_errors(form, errors: dict, default: str) -> None:
    """Put a refusal's field errors on the form's fields (others on the default field)."""
    for name, message in errors.items():
        field = getattr(form, name if hasattr(form, name) else default)
        field.errors = [*field.errors, message]  # a tuple until the form was validated


def _comment(posted, issue):
    c = services.add_comment(issue, current_user, posted.data.get("body") or "",
                             photos=posted.photos(current_user), client_id=posted.key,
                             data=posted.data, voice=posted.voice(current_user))
    # No #fragment: the outbox reloads the page only when the location is this page.
    return 201, {"id": c.id, "issue_id": issue.id}, url_for("issues.detail", issue_id=issue.id)


def _refused_comment(refusal, issue):
    form = CommentForm()
    _form_errors(form, refusal.errors, "body")
    return _detail_page(issue, comment_form=form, error=None if refusal.errors else refusal.message,
                        status=refusal.status, zawgyi=refusal.zawgyi,
                        comment_client_id=refusal.client_id)


COMMENT = Write("issue.comment", _comment, texts=("body",), refused=_refused_comment)


@bp.post("/issues/<int:issue_id>/comments")
@login_required
def comment(issue_id):
    return submit(COMMENT, services.get_issue(current_user, issue_id))


CONFIRM_CLOSE = _l("Tick the box to confirm that you close this issue.")


def _transition(posted, issue):
    data = posted.data
    if data.get("action") == "close" and not issue.waits_for_close and data.get("confirm") != "1":
        # The page asks before an issue nobody marked resolved is closed (the API does not).
        raise ApiError(422, fields={"confirm": CONFIRM_CLOSE})
    event = services.transition(issue, current_user, data.get("action", ""),
                                note=data.get("note", ""), assignee_id=data.get("assignee") or None,
                                client_id=posted.key)
    return 201, {"issue_id": issue.id, "state": event.to_state, "event_id": event.id}, \
        url_for("issues.detail", issue_id=issue.id)


def _refused_transition(refusal, issue):
    message = next(iter(refusal.errors.values()), None) or refusal.message
    return _detail_page(issue, error=str(message), status=refusal.status,
                        failed_action=refusal.values.get("action", ""))


TRANSITION = Write("issue.transition", _transition, refused=_refused_transition)


@bp.post("/issues/<int:issue_id>/transitions")
@login_required
def transition(issue_id):
    return submit(TRANSITION, services.get_issue(current_user, issue_id))


def _raise(posted, order):
    data = posted.data
    issue = services.raise_issue(
        order, current_user, category=data.get("category"), severity=data.get("severity"),
        title=data.get("title") or "", description=data.get("description") or "",
        photos=posted.photos(current_user), client_id=posted.key,
        voice=posted.voice(current_user),
        phrases=phrases.read(data, phrases.ISSUE, unit=order.unit),
        update=services.update_on(order, data.get("update_id")),
    )
    return 201, {"id": issue.id}, url_for("issues.detail", issue_id=issue.id)


# "This is wrong" on an update: the likely kind of problem for its status.
CATEGORY_FOR_STATUS = {"dispatched": "transport", "in_transit": "transport", "at_border": "documents_customs",
                       "customs_cleared": "documents_customs", "delivered": "quantity"}


def _about_update(order, raw):
    """The update a new issue is about (?update=), if it is one of this order's."""
    try:
        return services.update_on(order, raw)
    except ApiError:
        return None


def _refused_raise(refusal, order):
    form = RaiseIssueForm()
    _form_errors(form, {k: v for k, v in refusal.errors.items() if k != "phrases"}, "photos")
    return render_template("issues/new.html", form=form, order=order, zawgyi=refusal.zawgyi,
                           update=_about_update(order, refusal.values.get("update_id")),
                           values=refusal.values, errors=refusal.errors,
                           message=None if refusal.errors else refusal.message), refusal.status


RAISE = Write("issue.raise", _raise, texts=("title", "description"), refused=_refused_raise)


@bp.route("/orders/<reference>/issues/new", methods=["GET", "POST"])
@login_required
def new(reference):
    order = get_order(current_user, reference)
    form = RaiseIssueForm()
    if request.method == "GET":
        update = _about_update(order, request.args.get("update"))
        if request.args.get("category") in CATEGORIES:
            form.category.data = request.args["category"]
        elif update is not None:
            form.category.data = CATEGORY_FOR_STATUS.get(update.status, "other")
        return render_template("issues/new.html", form=form, order=order, update=update)
    if not form.validate():
        refuse_form(form)
        return render_template("issues/new.html", form=form, order=order, values=request.form,
                               update=_about_update(order, request.form.get("update_id"))), 422
    return submit(RAISE, order)
