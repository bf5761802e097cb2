"""Order pages: list, create, the order page with its forms, tracking links. Views are thin."""
from functools import partial

import segno
from flask import (abort, current_app, g, get_template_attribute, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import readmarks
from ..assets import Recent
from ..attachments.routes import send_photo
from ..attachments.services import MAX_PHOTOS, belongs_to_order
from ..errors import ApiError, wants_json
from ..extensions import db, limiter
from ..idempotency import new_client_id
from ..limits import LIMITS
from ..pagecache import cached_page, one_time_id
from ..models.order import normalize_reference
from ..models import (
    BORDER_CROSSINGS,
    CATEGORIES,
    CONDITIONS,
    CURRENCIES,
    DOCUMENT_TYPES,
    STATUSES,
    Attachment,
    StatusUpdate,
    TrackingLink,
    hash_token,
)
from ..writes import Write, caller_key, submit
from . import bp, handover, labels, services
from .share import share

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


def _order_page(order) -> str:
    return url_for("orders.detail", reference=order.reference)


@bp.get("/orders")
@login_required
@cached_page("orders")
def index():
    status = request.args.get("status", "")
    q = request.args.get("q", "")[:LIMITS["q"]]
    awaiting = request.args.get("awaiting") == "1"
    try:
        page_no = max(1, min(int(request.args.get("page", 1)), 100000))
    except ValueError:
        page_no = 1
    page = services.list_orders(current_user, status=status, q=q, awaiting=awaiting, page=page_no,
                                load=services.LIST_ITEM, tab_counts=True)
    if page.tab_counts is not None:  # read with the count: the tab bar asks no more
        g.tab_counts = page.tab_counts
    role = current_user.role
    return render_template(
        "orders/index.html", page=page, status=status, q=q, awaiting=awaiting,
        statuses=STATUSES, order_row=order_rows(role, services.today()),
        can_create=role in ("producer", "customer", "coordinator", "admin"),
    )


ROWS_KEPT_BYTES = 4 * 1024 * 1024  # per process: some 6,000 rows (about 700 bytes each)


def order_rows(role: str, today):
    """row -> its HTML in the orders list (templates/orders/_row.html), written once per
    process for each order's version (orders.data_version: +1 in the same transaction as any
    change to what the order shows, its organizations' names included; read in the list's own
    query) and what else the row shows: its counts, whether it has news for the viewer, the
    viewer's role, language and day. A list made again after one write writes one row anew."""
    macro = get_template_attribute("orders/_row.html", "order_row")
    kept = current_app.extensions.setdefault("secgo.order_rows", Recent(ROWS_KEPT_BYTES))
    locale = str(get_locale())

    def row_html(row) -> Markup:
        o = row.order
        key = (o.id, o.data_version, row.awaiting, row.open_issues, row.unread, role, locale, today)
        return Markup(kept.get_or_make(key, lambda: str(macro(row, role, today))))

    return row_html


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
    if request.method == "POST":
        return submit(CREATE)
    return render_new()


def render_new(*, values=None, errors=None, status=200):
    """The new-order form, with a refused form's values and errors."""
    return render_template(
        "orders/new.html", choices=services.counterpart_choices(current_user),
        values=values if values is not None else services.new_order_defaults(current_user),
        errors=errors or {}, currencies=CURRENCIES, borders=BORDER_CROSSINGS,
        client_id=new_client_id(),
    ), status


def _create(posted):
    order = services.create_order(current_user, posted.data, client_id=posted.key)
    return 201, {"reference": order.reference}, _order_page(order)


def _refused_new(refusal):
    return render_new(values=refusal.values, errors=refusal.errors, status=refusal.status)


CREATE = Write("orders.create", _create, refused=_refused_new)


def render_detail(order, *, form=None, errors=None, message=None, values=None, status=200,
                  zawgyi=None, client_id=None, last_seen=None):
    """The order page: facts, forms for what this viewer may do, one timeline."""
    from ..coordinator.promptness import expected_arrival  # (coordinator imports the order pages)

    from ..documents import services as documents

    side = services.side_of(current_user, order)
    updates, delivery, issues = services.load_history(order)
    code = None
    if side in services.PRODUCER_SIDES and delivery is None and order.status != "cancelled":
        if order.handover_code is None:  # an order made before handover codes: made now
            handover.code_for(order)  # in its own transaction, whose commit lets go of every
            updates, delivery, issues = services.load_history(order)  # row: read in 3, not one by one
        code = order.handover_code
    papers = documents.order_documents(order, removed=True)
    shown_papers = [d for d in papers if d.deleted_at is None]
    checklist = documents.checklist(order, shown_papers)
    return render_template(
        "orders/detail.html", order=order, side=side,
        entries=services.timeline(updates, delivery, issues, papers),
        documents=shown_papers, checklist=checklist, doc_types=DOCUMENT_TYPES,
        missing_papers=[c["label"] for c in checklist if not c["present"]],
        delivery=delivery, allowed=services.allowed_statuses(order, side),
        likely=services.likely_next(order, side), overdue=order.is_overdue(services.today()),
        open_issues=sum(i.is_open for i in issues),
        can_confirm=side in services.CUSTOMER_SIDES,
        can_deliver=side in services.CUSTOMER_SIDES and delivery is None and order.status != "cancelled",
        can_link=side is not None, can_label=side in labels.LABEL_SIDES,
        conditions=CONDITIONS, form=form, errors=errors or {}, message=message, values=values or {},
        client_id=client_id or new_client_id(), max_photos=MAX_PHOTOS,
        zawgyi=zawgyi or {},
        issue_detail="issues.detail" in current_app.view_functions,
        corrigible={u.id for u in updates if u.author_id == current_user.id or side == "admin"},
        pending=[u.id for u in updates if u.awaiting_confirmation],
        issues_on={i.update_id: i for i in issues if i.update_id},
        last_seen=last_seen, arrival=expected_arrival(order),
        handover_code=code,
        receiver=current_user.display_name,
        share=share(order, url_for("orders.detail", reference=order.reference, _external=True)),
    ), status


@bp.get("/orders/<reference>")
@login_required
@cached_page("order")
def detail(reference):
    order = services.get_order(current_user, reference)
    # Opening the page marks the order seen; the timeline marks what is new since last time.
    # The forms' client ids are one-time in every answer, a kept one too (pagecache).
    return render_detail(order, last_seen=readmarks.visit(current_user, "order", order),
                         client_id=one_time_id())


def _post_update(posted, order):
    # A plain form asks "Send anyway?" once when papers are missing; a script (the outbox)
    # stores the report and gets the missing papers in the answer (the page said so already).
    update = services.post_update(current_user, order, posted.data, posted.photos(current_user),
                                  client_id=posted.key, voice=posted.voice(current_user),
                                  ask_papers=not wants_json())
    return 201, {"id": update.id, "status": update.status,
                 **services.papers_warning(order, update)}, _order_page(order)


def _refused_update(refusal, order):
    """A refused update: the order page again, or the correction page for a correction."""
    corrected = _own_update(order, refusal.values.get("corrects_id"))
    if corrected is not None:
        return render_correct(order, corrected, **refusal.page())
    return _refused_on_detail("update", refusal, order)


POST_UPDATE = Write("orders.update", _post_update, texts=("note",), refused=_refused_update)


@bp.post("/orders/<reference>/updates")
@login_required
def post_update(reference):
    return submit(POST_UPDATE, services.get_order(current_user, reference))


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


def _confirm(posted, order, update):
    services.confirm_update(current_user, update, posted.data)
    # Back to the same spot: the update on the order page (or on the list of those awaiting).
    next_page = url_for("orders.awaiting") if posted.fields.get("next") == "awaiting" else None
    return 200, {"id": update.id, "confirmed": True}, \
        (next_page or _order_page(order)) + f"#u{update.id}"


def _refused_on_detail(form_name, refusal, order, update=None):
    """The order page again, with the refused form (one update's confirm form, or form_name)."""
    return render_detail(order, form=f"confirm-{update.id}" if update else form_name,
                         **refusal.page())


CONFIRM = Write("orders.confirm", _confirm, refused=partial(_refused_on_detail, None))


@bp.post("/orders/<reference>/updates/<int:update_id>/confirm")
@login_required
def confirm(reference, update_id):
    order = services.get_order(current_user, reference)
    update = services.get_update(current_user, update_id)
    if update.order_id != order.id:
        raise ApiError(404)
    return submit(CONFIRM, order, update)


def _confirm_all(posted):
    data = {**posted.data, "update_ids": services.form_ids(posted.data.get("update_ids"))}
    confirmed, before = services.confirm_updates(current_user, data)
    if posted.fields.get("next") == "awaiting":
        page = url_for("orders.awaiting")
    else:  # the order page the updates are on, at its timeline
        page = _order_page((confirmed or before)[0].order) + "#timeline"
    return 200, {"confirmed": [u.id for u in confirmed],
                 "already_confirmed": [u.id for u in before]}, page


CONFIRM_ALL = Write("orders.confirm_all", _confirm_all)


@bp.post("/orders/awaiting/confirm")
@login_required
def confirm_all():
    """Confirm the updates a page showed (update_ids), all at once."""
    return submit(CONFIRM_ALL)


def _deliver(posted, order):
    # A plain form is asked once before an issue opens; a script warned in the page already.
    row = services.confirm_delivery(current_user, order, posted.data, posted.photos(current_user),
                                    client_id=posted.key, ask=not wants_json(),
                                    voice=posted.voice(current_user),
                                    signature=posted.signature(current_user),
                                    document=posted.document(current_user))
    return 201, {"id": row.id, "condition": row.condition}, _order_page(order)


DELIVERY = Write("orders.delivery", _deliver, texts=("note", "receiver_name"),
                 refused=partial(_refused_on_detail, "delivery"))


@bp.post("/orders/<reference>/delivery")
@login_required
def delivery(reference):
    return submit(DELIVERY, services.get_order(current_user, reference))


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


def new_tracking_link(posted, order):
    """Make a tracking link (pages and the API): its secret URL is shown once, never stored."""
    link, token = services.create_tracking_link(current_user, order, posted.data)
    body = {"id": link.id, "contact_name": link.contact_name,
            "expires_at": link.expires_at.isoformat()}
    return 201, body, url_for("orders.links", reference=order.reference), {"url": _link_url(token)}


def _refused_link(refusal, order):
    return render_links(order, errors=refusal.errors, values=refusal.values, status=refusal.status)


def _new_link_page(created, order):
    """The page of a link just made: its URL and QR code, this once."""
    link = db.session.get(TrackingLink, created["id"])
    return render_template("orders/link.html", order=order, link=link, url=created["url"],
                           qr=_qr(created["url"]), share=share(order, created["url"]))


CREATE_LINK = Write("orders.link", new_tracking_link, refused=_refused_link,
                    shown_page=_new_link_page)


@bp.post("/orders/<reference>/links")
@login_required
def create_link(reference):
    return submit(CREATE_LINK, services.get_order(current_user, reference))


def end_tracking_link(posted, order, link_id):
    """Revoke a tracking link (pages and the API)."""
    link = services.revoke_tracking_link(current_user, order, link_id)
    return 200, {"id": link.id, "revoked": True, "revoked_at": link.revoked_at.isoformat()}, \
        url_for("orders.links", reference=order.reference)


REVOKE_LINK = Write("orders.revoke_link", end_tracking_link, body=None,
                    flash=_l("Link revoked. It no longer works."))


@bp.post("/orders/<reference>/links/<int:link_id>/revoke")
@login_required
def revoke_link(reference, link_id):
    return submit(REVOKE_LINK, services.get_order(current_user, reference), link_id)


# --- tracking links: no account, only this order, only receipt and problems --------------

LINK_ENDED = _l("This tracking link no longer works.")


def _live_link(token):
    """The live link, or its end said plainly: a revoked or expired link answers 410 with
    whom to ask (the order's two organizations, as its page showed); anything else 404."""
    link = services.find_tracking_link(token)
    if link is not None:
        return link
    ended = services.ended_tracking_link(token)
    if ended is None:
        raise ApiError(404)
    if wants_json():
        raise ApiError(410, LINK_ENDED, code="link_ended")
    page = render_template("tracking/gone.html", link=ended, order=ended.order)
    abort(make_response(page, 410, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}))


def render_track(link, token, *, form=None, errors=None, message=None, values=None, status=200,
                 zawgyi=None, client_id=None):
    order = link.order
    updates, delivery, issues = services.load_history(order)
    return render_template(
        "tracking/track.html", link=link, token=token, order=order,
        entries=services.timeline(updates, delivery, issues), delivery=delivery,
        conditions=CONDITIONS, categories=CATEGORIES, client_id=client_id or new_client_id(),
        form=form, zawgyi=zawgyi or {},
        errors=errors or {}, message=message, values=values or {},
        can_deliver=delivery is None and order.status != "cancelled",
        share=share(order, _link_url(token)), receiver=link.contact_name,
        outbox_owner=caller_key(link),  # whose reports its outbox queues (static/js/outbox.js)
    ), status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.get("/t/<token>")
def track(token):
    link = _live_link(token)
    return remember_tracking_link(make_response(render_track(link, token)), link, token)


def _refused_on_track(form_name, refusal, link, token):
    return render_track(link, token, form=form_name, **refusal.page())


def _track_receipt(posted, link, token):
    row = services.confirm_delivery(None, link.order, posted.data, posted.photos(None),
                                    client_id=posted.key, label=link.contact_name,
                                    ask=not wants_json(), voice=posted.voice(None),
                                    signature=posted.signature(None),
                                    document=posted.document(None))
    return 201, {"id": row.id}, url_for("orders.track", token=token)


def _track_problem(posted, link, token):
    issue = services.report_problem_via_link(link, posted.data, posted.photos(None),
                                             client_id=posted.key, voice=posted.voice(None))
    return 201, {"id": issue.id}, url_for("orders.track", token=token)


TRACK_RECEIPT = Write("tracking.receipt", _track_receipt, texts=("note", "receiver_name"),
                      refused=partial(_refused_on_track, "delivery"))
TRACK_PROBLEM = Write("tracking.problem", _track_problem,
                      refused=partial(_refused_on_track, "problem"))


# No CSRF token on a tracking link's writes (secgo.authn.CSRF_EXEMPT): its token is the credential.
@bp.post("/t/<token>/receipt")
@limiter.limit(TRACKING_WRITE_LIMIT)
@per_link
def track_receipt(token):
    link = _live_link(token)
    return submit(TRACK_RECEIPT, link, token, caller=link)


@bp.post("/t/<token>/problem")
@limiter.limit(TRACKING_WRITE_LIMIT)
@per_link
def track_problem(token):
    link = _live_link(token)
    return submit(TRACK_PROBLEM, link, token, caller=link)


@bp.get("/t/<token>/photos/<int:attachment_id>")
def track_photo(token, attachment_id):
    link = _live_link(token)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not belongs_to_order(attachment_id, link.order_id):
        raise ApiError(404)
    return send_photo(attachment, thumb=request.args.get("size") == "thumb")



# --- QR labels for sacks and crates, and what a scanned label opens -------------------------

# A label's address is looked up by whoever holds the sack: per address, like other lookups,
# so nobody walks through references (and every answer is the same for a wrong one anyway).
LABEL_LOOKUP_LIMIT = "60 per minute;600 per hour"
# A sheet of 500 labels takes seconds of CPU: enough for any packing day, not for a flood.
LABELS_PDF_LIMIT = "20 per minute;200 per hour"
TRACK_COOKIE = "secgo_track"  # tracking links opened in this browser, for /l/<code> (path /l/)
TRACK_COOKIE_LINKS = 5


def render_labels(order, *, errors=None, values=None, status=200):
    """The label form: how many packages, and how much is in each."""
    return render_template("orders/labels.html", order=order, errors=errors or {},
                           values=values or {}, max_packages=labels.MAX_PACKAGES,
                           per_sheet=labels.PER_SHEET, language=labels.language(order),
                           language_name=labels.language_name(order)), status


@bp.get("/orders/<reference>/labels")
@login_required
def labels_form(reference):
    order = services.get_order(current_user, reference)
    labels.check_side(current_user, order)
    return render_labels(order)


def labels_response(order, data):
    """The label PDF for pages and the API (the form's numbers checked first)."""
    labels.check_side(current_user, order)
    pdf = labels.render_pdf(order, labels.validate(data, order))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f"inline; filename=labels-{order.reference}.pdf"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/orders/<reference>/labels.pdf")
@login_required
@limiter.limit(LABELS_PDF_LIMIT)
def labels_pdf(reference):
    order = services.get_order(current_user, reference)
    try:
        return labels_response(order, request.args)
    except ApiError as refusal:
        if refusal.status != 422 or wants_json():
            raise
        values = {k: request.args.get(k, "")[:40] for k in ("packages", "per_package")}
        return render_labels(order, errors=refusal.fields, values=values, status=422)


def _tracking_tokens() -> list[str]:
    return [t for t in request.cookies.get(TRACK_COOKIE, "").split("~") if t][:TRACK_COOKIE_LINKS]


def remember_tracking_link(response, link, token):
    """Keep the link in this browser, so that scanning one of its order's labels opens it."""
    tokens = [token] + [t for t in _tracking_tokens() if t != token]
    left = (link.expires_at - services.utcnow()).total_seconds()
    response.set_cookie(TRACK_COOKIE, "~".join(tokens[:TRACK_COOKIE_LINKS]), path="/l/",
                        max_age=max(0, int(left)), httponly=True, samesite="Lax",
                        secure=request.is_secure)
    return response


@bp.get("/l/<code>")
@limiter.limit(LABEL_LOOKUP_LIMIT)
def label(code):
    """A scanned label: the order page for who may see it, the tracking page for a tracking-link
    holder, else signing in (or 404 when signed in): the same answers as for a wrong code."""
    reference = normalize_reference(code)
    if reference and current_user.is_authenticated:
        order = services.find_visible_order(current_user, reference)
        if order is not None:
            return redirect(_order_page(order))
    for token in _tracking_tokens() if reference else ():
        link = services.find_tracking_link(token)
        if link is not None and link.order.reference == reference:
            return redirect(url_for("orders.track", token=token))
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    raise ApiError(404)


@bp.get("/scan")
def scan():
    """Scan a label with the camera (or a photo of it): a SEC GO! label opens its order.

    Open to everyone: it holds no data, and a warehouse clerk with only a tracking link scans
    here, in the browser that opened the link (often a chat app's), so /l/ finds the link."""
    return render_template("orders/scan.html")
