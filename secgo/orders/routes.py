"""Order pages: list, create, the order page with its forms, tracking links. Views are thin."""
import hashlib

import segno
from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..attachments.routes import send_photo
from ..attachments.services import MAX_PHOTOS, belongs_to_order, photos_from_request
from ..errors import ApiError, wants_json
from ..extensions import db, limiter
from ..i18n import ZawgyiQuestion, check_zawgyi, zawgyi_answer
from ..idempotency import new_client_id, request_key, run_once
from ..limits import LIMITS
from ..pagecache import cached_page
from ..models import (
    BORDER_CROSSINGS,
    CATEGORIES,
    CONDITIONS,
    CURRENCIES,
    STATUSES,
    Attachment,
    StatusUpdate,
    hash_token,
)
from ..web import done
from . import bp, services

SKIP_FIELDS = {"csrf_token", "client_id"}
TRACKING_WRITE_LIMIT = "30 per hour"  # people without an account: keep a leaked link from flooding
# ... and per link, whatever the address: a leaked link on many machines floods no order.
TRACKING_LINK_WRITE_LIMIT = "20 per hour"


def _tracking_link_key() -> str:
    """The rate-limit key of the tracking link in the URL: its token's hash (never the secret)."""
    return hash_token(str((request.view_args or {}).get("token", "")))


per_link = limiter.shared_limit(
    TRACKING_LINK_WRITE_LIMIT, scope="tracking-link", key_func=_tracking_link_key,
    error_message=_l("This link has sent too many reports. Please try again in an hour."),
)


def form_data() -> dict:
    """The posted fields, without the CSRF token and the request id."""
    return {k: v for k, v in request.form.items() if k not in SKIP_FIELDS}


def files_digest(name="photos") -> list[str]:
    """Hashes of the uploaded files, so a replay with other photos is told apart."""
    digests = []
    for f in request.files.getlist(name):
        if f and f.filename:
            digests.append(hashlib.sha256(f.read()).hexdigest())
            f.seek(0)
    return digests


def form_with_photos():
    """The form's fields, the ids of photos uploaded earlier, and what identifies the request."""
    data = form_data()
    data.pop("photo_ids", None)
    ids = photo_ids_from_form()
    return data, ids, {**data, "photos": files_digest(), "photo_ids": ids}


def photo_ids_from_form() -> list:
    """Ids of photos uploaded earlier (by the page's script) and referenced by this form."""
    ids = []
    for raw in request.form.getlist("photo_ids"):
        try:
            ids.append(int(raw))
        except ValueError:
            raise ApiError(422, fields={"photo_ids": _("Unknown photo.")}) from None
    return ids


def _write(scope, payload, action, user_key=None):
    status, body, location = run_once(
        user_key or f"u{current_user.id}", request_key(), scope, payload, action
    )
    return done(location, status, body)


@bp.get("/orders")
@login_required
@cached_page
def index():
    status = request.args.get("status", "")
    q = request.args.get("q", "")[:LIMITS["q"]]
    awaiting = request.args.get("awaiting") == "1"
    try:
        page_no = max(1, min(int(request.args.get("page", 1)), 100000))
    except ValueError:
        page_no = 1
    page = services.list_orders(current_user, status=status, q=q, awaiting=awaiting, page=page_no)
    return render_template(
        "orders/index.html", page=page, status=status, q=q, awaiting=awaiting,
        statuses=STATUSES, today=services.today(), can_create=current_user.role in ("producer", "customer",
                                                                             "coordinator", "admin"),
    )


@bp.get("/orders/awaiting")
@login_required
def awaiting():
    updates = services.awaiting_updates(current_user)
    return render_template("orders/awaiting.html", updates=updates, client_id=new_client_id(),
                           can_confirm=current_user.role in services.CUSTOMER_SIDES)


@bp.route("/orders/new", methods=["GET", "POST"])
@login_required
def new():
    if current_user.role in ("producer", "customer") and current_user.organization_id is None:
        raise ApiError(403)
    choices = services.counterpart_choices(current_user)
    values, errors = {}, {}
    if request.method == "POST":
        data = form_data()

        def action():
            order = services.create_order(current_user, data, client_id=request_key())
            location = url_for("orders.detail", reference=order.reference)
            return 201, {"reference": order.reference}, location

        try:
            return _write("orders.create", data, action)
        except ApiError as err:
            if err.status != 422 or wants_json():
                raise
            values, errors = data, err.fields
    return render_template(
        "orders/new.html", choices=choices, values=values, errors=errors,
        currencies=CURRENCIES, borders=BORDER_CROSSINGS, client_id=new_client_id(),
    ), (422 if errors else 200)


def render_detail(order, *, form=None, errors=None, message=None, values=None, status=200,
                  new_link=None, zawgyi=None, client_id=None):
    """The order page: facts, forms for what this viewer may do, one timeline."""
    side = services.side_of(current_user, order)
    updates, delivery, issues = services.load_history(order)
    return render_template(
        "orders/detail.html", order=order, side=side, entries=services.timeline(updates, delivery, issues),
        delivery=delivery, allowed=services.allowed_statuses(order, side),
        likely=services.likely_next(order, side), overdue=order.is_overdue(services.today()),
        open_issues=sum(i.is_open for i in issues),
        can_confirm=side in services.CUSTOMER_SIDES,
        can_deliver=side in services.CUSTOMER_SIDES and delivery is None and order.status != "cancelled",
        can_link=side is not None,
        conditions=CONDITIONS, form=form, errors=errors or {}, message=message, values=values or {},
        client_id=client_id or new_client_id(), max_photos=MAX_PHOTOS, new_link=new_link,
        zawgyi=zawgyi or {},
        issue_detail="issues.detail" in current_app.view_functions,
        corrigible={u.id for u in updates if u.author_id == current_user.id or side == "admin"},
    ), status


@bp.get("/orders/<reference>")
@login_required
def detail(reference):
    order = services.get_order(current_user, reference)
    return render_detail(order)


def _page_write(order, form_name, scope, payload, action, rerender=None, *, data=None, texts=()):
    """Run a write from the order page; for plain forms, show refusals next to the form.

    The free texts of data are settled first (Zawgyi: secgo.i18n.check_zawgyi): a plain form
    is asked "did you mean ...?"; a script's answer carries the suggestion.
    """
    doubts = {}

    def with_hint():
        status, body, location = action()
        return status, {**body, **zawgyi_answer(doubts)}, location

    try:
        doubts = check_zawgyi(data, texts) if texts else {}
        return _write(scope, payload, with_hint)
    except ApiError as err:
        if wants_json() or err.status not in (409, 413, 415, 422):
            raise
        db.session.rollback()
        asked = isinstance(err, ZawgyiQuestion)
        show = rerender or (lambda **kw: render_detail(order, form=form_name, **kw))
        return show(errors=err.fields, values=payload, message=err.to_dict()["error"]["message"],
                    status=err.status, zawgyi=err.doubts if asked else doubts,
                    client_id=request_key() if asked else None)


@bp.post("/orders/<reference>/updates")
@login_required
def post_update(reference):
    order = services.get_order(current_user, reference)
    data, ids, payload = form_with_photos()

    def action():
        photos = photos_from_request(current_user, request.files.getlist("photos"), ids)
        update = services.post_update(current_user, order, data, photos, client_id=request_key())
        location = url_for("orders.detail", reference=order.reference)
        return 201, {"id": update.id, "status": update.status}, location

    rerender = None
    corrected = _own_update(order, data.get("corrects_id"))
    if corrected is not None:
        def rerender(**kw):
            return render_correct(order, corrected, **kw)
    return _page_write(order, "update", "orders.update", payload, action, rerender,
                       data=data, texts=("note",))


def _own_update(order, raw_id):
    """The update a correction form points to, if it is one of this order's updates."""
    try:
        update = db.session.get(StatusUpdate, int(raw_id)) if raw_id else None
    except (TypeError, ValueError):
        return None
    return update if update is not None and update.order_id == order.id else None


def render_correct(order, update, *, errors=None, values=None, message=None, status=200,
                   zawgyi=None, client_id=None):
    return render_template(
        "orders/correct.html", order=order, update=update, statuses=STATUSES,
        errors=errors or {}, values=values or {}, message=message,
        client_id=client_id or new_client_id(), zawgyi=zawgyi or {},
    ), status


@bp.get("/orders/<reference>/correct/<int:update_id>")
@login_required
def correct(reference, update_id):
    order = services.get_order(current_user, reference)
    update = _own_update(order, update_id)
    if update is None:
        raise ApiError(404)
    if update.author_id != current_user.id and services.side_of(current_user, order) != "admin":
        raise ApiError(403, _("Only the author of an update can correct it."))
    return render_correct(order, update)


@bp.post("/orders/<reference>/updates/<int:update_id>/confirm")
@login_required
def confirm(reference, update_id):
    order = services.get_order(current_user, reference)
    data = form_data()
    data.pop("next", None)
    target = request.form.get("next")

    def action():
        update = services.get_update(current_user, update_id)
        if update.order_id != order.id:
            raise ApiError(404)
        services.confirm_update(current_user, update, data)
        if target == "awaiting":
            location = url_for("orders.awaiting")
        else:
            location = url_for("orders.detail", reference=order.reference)
        return 200, {"id": update.id, "confirmed": True}, location

    return _page_write(order, f"confirm-{update_id}", "orders.confirm", {**data, "id": update_id}, action)


@bp.post("/orders/<reference>/delivery")
@login_required
def delivery(reference):
    order = services.get_order(current_user, reference)
    data, ids, payload = form_with_photos()

    def action():
        photos = photos_from_request(current_user, request.files.getlist("photos"), ids)
        row = services.confirm_delivery(current_user, order, data, photos, client_id=request_key())
        location = url_for("orders.detail", reference=order.reference)
        return 201, {"id": row.id, "condition": row.condition}, location

    return _page_write(order, "delivery", "orders.delivery", payload, action,
                       data=data, texts=("note",))


def _link_url(token):
    return url_for("orders.track", token=token, _external=True)


def _qr(url):
    return segno.make(url, error="m").svg_inline(scale=4, dark="#111", light="#fff", omitsize=True)


def render_links(order, *, errors=None, values=None, status=200):
    return render_template(
        "orders/links.html", order=order, links=services.tracking_links(order),
        errors=errors or {}, values=values or {}, client_id=new_client_id(),
    ), status


@bp.get("/orders/<reference>/links")
@login_required
def links(reference):
    order = services.get_order(current_user, reference)
    return render_links(order)


@bp.post("/orders/<reference>/links")
@login_required
def create_link(reference):
    order = services.get_order(current_user, reference)
    data = form_data()
    created = {}

    def action():
        link, token = services.create_tracking_link(current_user, order, data)
        created.update(link=link, token=token)
        body = {"id": link.id, "expires_at": link.expires_at.isoformat()}
        return 201, body, url_for("orders.links", reference=order.reference)

    try:
        status, body, location = run_once(
            f"u{current_user.id}", request_key(), "orders.link", data, action
        )
    except ApiError as err:
        if wants_json() or err.status != 422:
            raise
        return render_links(order, errors=err.fields, values=data, status=422)
    if not created:
        # A replay: the secret was shown once and is stored only hashed.
        return done(location, status, body)
    url = _link_url(created["token"])
    if wants_json():
        return {**body, "url": url}, 201, {"Cache-Control": "no-store"}
    return render_template(
        "orders/link.html", order=order, link=created["link"], url=url, qr=_qr(url)
    ), 201, {"Cache-Control": "no-store"}


@bp.post("/orders/<reference>/links/<int:link_id>/revoke")
@login_required
def revoke_link(reference, link_id):
    order = services.get_order(current_user, reference)

    def action():
        services.revoke_tracking_link(current_user, order, link_id)
        return 200, {"id": link_id, "revoked": True}, url_for("orders.links", reference=order.reference)

    return _write("orders.revoke_link", {"id": link_id}, action)


# --- tracking links: no account, only this order, only receipt and problems --------------

def _live_link(token):
    link = services.find_tracking_link(token)
    if link is None:
        raise ApiError(404)
    return link


def render_track(link, token, *, form=None, errors=None, message=None, values=None, status=200):
    order = link.order
    updates, delivery, issues = services.load_history(order)
    return render_template(
        "tracking/track.html", link=link, token=token, order=order,
        entries=services.timeline(updates, delivery, issues), delivery=delivery,
        conditions=CONDITIONS, categories=CATEGORIES, client_id=new_client_id(), form=form,
        errors=errors or {}, message=message, values=values or {},
        can_deliver=delivery is None and order.status != "cancelled",
    ), status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.get("/t/<token>")
def track(token):
    link = _live_link(token)
    return render_track(link, token)


def _track_write(link, token, form_name, scope, payload, action):
    try:
        status, body, location = run_once(f"t{link.id}", request_key(), scope, payload, action)
    except ApiError as err:
        if wants_json() or err.status not in (409, 413, 415, 422):
            raise
        db.session.rollback()
        return render_track(link, token, form=form_name, errors=err.fields, values=payload,
                            message=err.to_dict()["error"]["message"], status=err.status)
    return done(location, status, body)


@bp.post("/t/<token>/receipt")
@limiter.limit(TRACKING_WRITE_LIMIT)
@per_link
def track_receipt(token):
    link = _live_link(token)
    data = form_data()
    payload = {**data, "photos": files_digest()}

    def action():
        photos = photos_from_request(None, request.files.getlist("photos"))
        row = services.confirm_delivery(None, link.order, data, photos, client_id=request_key(),
                                        label=link.contact_name)
        return 201, {"id": row.id}, url_for("orders.track", token=token)

    return _track_write(link, token, "delivery", "tracking.receipt", payload, action)


@bp.post("/t/<token>/problem")
@limiter.limit(TRACKING_WRITE_LIMIT)
@per_link
def track_problem(token):
    link = _live_link(token)
    data = form_data()
    payload = {**data, "photos": files_digest()}

    def action():
        photos = photos_from_request(None, request.files.getlist("photos"))
        issue = services.report_problem_via_link(link, data, photos, client_id=request_key())
        return 201, {"id": issue.id}, url_for("orders.track", token=token)

    return _track_write(link, token, "problem", "tracking.problem", payload, action)


@bp.get("/t/<token>/photos/<int:attachment_id>")
def track_photo(token, attachment_id):
    link = _live_link(token)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not belongs_to_order(attachment_id, link.order_id):
        raise ApiError(404)
    return send_photo(attachment, thumb=request.args.get("size") == "thumb")

