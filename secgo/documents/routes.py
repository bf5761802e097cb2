"""Document pages: attach, open, remove an order's papers; each crossing's checklist."""
from flask import Response, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..attachments.routes import send_paper
from ..authz import roles_required
from ..idempotency import new_client_id
from ..models import BORDER_CROSSINGS, DOCUMENT_TYPES
from ..orders import services as orders
from ..orders.routes import render_detail
from ..writes import Write, submit
from . import bp, services

FILE_FIELD = "document"


def document_json(doc) -> dict:
    """A document as the API and the outbox's answer show it."""
    reference = doc.order.reference
    return {
        "id": doc.id, "doc_type": doc.doc_type, "label": services.type_label(doc.doc_type),
        "mime": doc.mime, "size": doc.size, "pages": doc.pages, "filename": doc.filename,
        "uploaded_by": doc.uploaded_by.display_name if doc.uploaded_by else doc.uploaded_by_label,
        "created_at": doc.created_at.isoformat(),
        "removed": doc.deleted_at is not None,
        "url": url_for("documents.download", reference=reference, document_id=doc.id),
        "thumb_url": url_for("documents.thumb", reference=reference, document_id=doc.id),
    }


def send_document(doc, *, thumb=False, download=False) -> Response:
    """A stored document, as every paper is served (attachments.routes.send_paper)."""
    name = f"{doc.order.reference}-{doc.doc_type}-{doc.id}.{'pdf' if doc.is_pdf else 'jpg'}"
    return send_paper(services.storage_path(doc, thumb=thumb), doc.sha256, doc.mime, thumb=thumb,
                      filename=name, download=download)


def _order_page(order) -> str:
    return url_for("orders.detail", reference=order.reference) + "#documents"


def upload_document(posted, user, order):
    """Attach a document (pages, the outbox and the API)."""
    doc = services.document_from_request(user, order, posted.files[0] if posted.files else None,
                                         posted.data.get("doc_type"), client_id=posted.key)
    return 201, document_json(doc), _order_page(order)


def _upload(posted, order):
    return upload_document(posted, current_user, order)


def _refused_upload(refusal, order):
    return render_detail(order, form="document", **refusal.page())


UPLOAD = Write("documents.upload", _upload, files=FILE_FIELD, refused=_refused_upload)


@bp.post("/orders/<reference>/documents")
@login_required
def upload(reference):
    return submit(UPLOAD, orders.get_order(current_user, reference))


@bp.get("/orders/<reference>/documents/<int:document_id>")
@login_required
def download(reference, document_id):
    order = orders.get_order(current_user, reference)
    return send_document(services.get_document(order, document_id),
                         download=request.args.get("download") == "1")


@bp.get("/orders/<reference>/documents/<int:document_id>/thumb")
@login_required
def thumb(reference, document_id):
    order = orders.get_order(current_user, reference)
    return send_document(services.get_document(order, document_id), thumb=True)


def remove_document(posted, user, order, document_id):
    """Remove a document (pages and the API): its uploader only; again is no change."""
    doc = services.remove_document(user, order, document_id)
    return 200, document_json(doc), _order_page(order)


def _remove_page(posted, order, document_id):
    return remove_document(posted, current_user, order, document_id)


REMOVE = Write("documents.remove", _remove_page, body=None, flash=_l("Document removed."))


@bp.post("/orders/<reference>/documents/<int:document_id>/remove")
@login_required
def remove(reference, document_id):
    return submit(REMOVE, orders.get_order(current_user, reference), document_id)


# --- checklists ---------------------------------------------------------------------------------

def render_checklists(*, errors=None, values=None, message=None, status=200):
    """The coordinator's page: what each crossing needs, and the form that sets it."""
    return render_template(
        "documents/checklists.html", checklists=services.crossing_checklists(),
        crossings=BORDER_CROSSINGS, types=DOCUMENT_TYPES, labels=services.TYPE_LABELS,
        errors=errors or {}, values=values or {}, message=message, client_id=new_client_id(),
    ), status


def set_checklist(posted, user, crossing=None):
    """Set a crossing's checklist for all products or one (the page and the API)."""
    data = posted.data
    crossing = crossing or data.get("crossing")
    types = data.get("doc_types", [])
    if request.mimetype != "application/json":  # a form's checkboxes
        types = posted.getlist("doc_types")
    groups = services.set_checklist(user, crossing, data.get("product", ""), types)
    return 200, {"crossing": crossing, "checklist": groups}, \
        url_for("documents.checklists") + f"#c-{crossing}"


def _set_page(posted):
    return set_checklist(posted, current_user)


def _refused_checklist(refusal):
    return render_checklists(**{k: refusal.page()[k] for k in ("errors", "values", "message",
                                                                 "status")})


SET_CHECKLIST = Write("documents.checklist", _set_page, refused=_refused_checklist,
                      flash=_l("Checklist saved."))


@bp.route("/coordinator/checklists", methods=["GET", "POST"])
@roles_required("coordinator", "admin")
def checklists():
    if request.method == "POST":
        return submit(SET_CHECKLIST)
    return render_checklists()
