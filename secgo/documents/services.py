"""Document rules: what is accepted, how a PDF is made harmless, where it is stored, who
sees it, and which papers a border crossing needs.

A PDF is opened with pikepdf (qpdf) and written again without what can act on the reader's
machine: JavaScript (name tree, /JS, /OpenAction, additional actions), embedded files,
launch and other actions, XFA and AcroForm forms, annotations that act; the document
information and XMP metadata go too. An encrypted or unreadable file is refused. The first
page of what is stored is drawn by PDFium (pypdfium2) as a small JPEG thumbnail; a file PDFium
cannot draw is refused as well. A photo of paper (JPEG, PNG, WebP, HEIC) goes through the
photo rules (re-encoded, metadata stripped), with more pixels kept so the text stays legible.

Pages, the outbox, the API (and the handover's delivery note) call document_from_request; a
profile's certificate goes through paper_attachment (the same cleaning, no order). These
functions only flush, the caller commits.
"""
import hashlib
import io
import logging
import threading
from pathlib import Path

import pikepdf
import pillow_heif
import pypdfium2 as pdfium
from PIL import Image
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..attachments.services import (
    FORMATS,
    _store,
    clean_photo,
    store_files,
)
from ..audit.services import record
from ..authz import order_side
from ..errors import ApiError
from ..extensions import db
from ..i18n import DOCUMENT_LABELS, fold
from ..limits import clean_text
from ..models import (
    BORDER_CROSSINGS,
    Attachment,
    CHECKED_STATUSES,
    DOCUMENT_TYPES,
    FINAL_STATUSES,
    CrossingRequirement,
    Document,
    Order,
    utcnow,
)

pillow_heif.register_heif_opener()  # HEIC: what an iPhone's camera takes

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_PAGES = 50
DOC_SIDE = 3000  # a photo of an A4 page: small print stays readable
IMAGE_FORMATS = FORMATS | {"HEIF"}
THUMB_WIDTH, THUMB_HEIGHT = 240, 340
FIELD = "document"
log = logging.getLogger(__name__)
_pdfium = threading.Lock()  # PDFium is not thread-safe

TYPE_LABELS = DOCUMENT_LABELS
NOT_A_DOCUMENT = _l("Only a PDF or a photo of the paper (JPEG, PNG, WebP or HEIC) can be attached.")
ENCRYPTED = _l("This PDF is locked with a password. Save it again without a password (or "
               "take a photo of the paper) and attach that.")
BROKEN = _l("This PDF cannot be read: it may be damaged. Save or scan it again and attach that.")
# Annotations that play, embed or fill in: removed whatever their actions.
ACTIVE_ANNOTATIONS = {"/Widget", "/FileAttachment", "/Screen", "/Movie", "/Sound", "/RichMedia",
                      "/3D"}
# Keys that act or carry files, wherever they are.
ACTIVE_KEYS = ("/JS", "/AA", "/A", "/OpenAction", "/EF", "/RichMediaContent", "/XFA")


def _refuse(status, message, field=FIELD):
    raise ApiError(status, message, fields={field: message})


def type_label(code: str) -> str:
    """A document type in the reader's language."""
    return str(TYPE_LABELS.get(code, code))


# --- cleaning ---------------------------------------------------------------------------------

def _strip_active(pdf) -> None:
    root = pdf.Root
    for key in ("/OpenAction", "/AA", "/AcroForm", "/Metadata"):
        if key in root:
            del root[key]
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                del names[key]
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            kept = [a for a in annots if isinstance(a, pikepdf.Dictionary)
                    and a.get("/Subtype") not in ACTIVE_ANNOTATIONS
                    and "/A" not in a and "/AA" not in a]
            if kept:
                page.obj.Annots = pikepdf.Array(kept)
            else:
                del page.obj["/Annots"]
    # Whatever is left anywhere (outlines, structure trees, odd producers): no key that acts.
    for obj in pdf.objects:
        target = obj.stream_dict if isinstance(obj, pikepdf.Stream) else obj
        if not isinstance(target, pikepdf.Dictionary):
            continue
        for key in ACTIVE_KEYS:
            if key in target:
                del target[key]


def _thumbnail(pdf_bytes: bytes) -> bytes:
    """The first page, drawn small as a JPEG."""
    with _pdfium:
        doc = pdfium.PdfDocument(pdf_bytes)
        try:
            page = doc[0]
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                raise ValueError("empty page")
            scale = min(THUMB_WIDTH / width, THUMB_HEIGHT / height)
            image = page.render(scale=scale).to_pil().convert("RGB")
        finally:
            doc.close()
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def clean_pdf(data: bytes) -> tuple[bytes, bytes, int]:
    """Check a PDF and write it again without anything active; return (PDF, thumbnail JPEG,
    pages). Refused: not a PDF, encrypted, unreadable, too many pages."""
    if not data.startswith(b"%PDF-"):  # a polyglot starts as something else
        _refuse(415, NOT_A_DOCUMENT)
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                _refuse(422, ENCRYPTED)
            pages = len(pdf.pages)
            if pages == 0:
                _refuse(422, BROKEN)
            if pages > MAX_PAGES:
                _refuse(422, _l("A PDF may have at most %(n)s pages.", n=MAX_PAGES))
            _strip_active(pdf)
            out = io.BytesIO()
            # The same file always comes out the same, so a copy sent twice is known by its hash.
            pdf.save(out, deterministic_id=True, compress_streams=True,
                     object_stream_mode=pikepdf.ObjectStreamMode.generate)
    except ApiError:
        raise
    except pikepdf.PasswordError:
        _refuse(422, ENCRYPTED)
    # A damaged file can fail anywhere in qpdf (QpdfRuntimeError is a RuntimeError).
    except (pikepdf.PdfError, pikepdf.DataDecodingError, RuntimeError, ValueError, TypeError,
            KeyError, IndexError, AttributeError, OSError) as err:
        log.info("PDF refused: %s", err)
        _refuse(422, BROKEN)
    cleaned = out.getvalue()
    if len(cleaned) > MAX_DOCUMENT_BYTES:
        _refuse(413, _l("A document may be at most %(mb)s MB.", mb=MAX_DOCUMENT_BYTES // (1024 * 1024)))
    try:
        thumb = _thumbnail(cleaned)
    except (pdfium.PdfiumError, RuntimeError, ValueError, OSError) as err:
        log.info("PDF refused by PDFium: %s", err)
        _refuse(422, BROKEN)
    return cleaned, thumb, pages


def clean_document(data: bytes) -> tuple[bytes, bytes, str, int]:
    """Check a document by its content: (stored bytes, thumbnail JPEG, mime, pages)."""
    if not data:
        _refuse(422, _l("The file is empty."))
    if len(data) > MAX_DOCUMENT_BYTES:
        _refuse(413, _l("A document may be at most %(mb)s MB.", mb=MAX_DOCUMENT_BYTES // (1024 * 1024)))
    if data.startswith(b"%PDF-"):
        pdf, thumb, pages = clean_pdf(data)
        return pdf, thumb, "application/pdf", pages
    try:
        jpeg, thumb, _w, _h = clean_photo(data, formats=IMAGE_FORMATS, max_side=DOC_SIDE)
    except ApiError as err:
        message = NOT_A_DOCUMENT if err.status == 415 else next(iter(err.fields.values()), None)
        _refuse(err.status, message or NOT_A_DOCUMENT)
    return jpeg, thumb, "image/jpeg", 1


# --- storing ----------------------------------------------------------------------------------

def paper_attachment(user, data: bytes) -> Attachment:
    """A paper that belongs to no order (a profile's certificate): cleaned exactly as an order's
    documents are (clean_document), stored once per uploader as an attachment."""
    stored, thumb, mime, _pages = clean_document(data)
    width = height = 0
    if mime == "image/jpeg":
        with Image.open(io.BytesIO(stored)) as image:
            width, height = image.size
    return _store(user, stored, thumb, width, height, mime=mime, field=FIELD)


def storage_path(document: Document, thumb: bool = False) -> Path:
    """Where a document's bytes (or its thumbnail) live under UPLOAD_FOLDER."""
    name = document.thumb_name if thumb else document.storage_name
    return Path(current_app.config["UPLOAD_FOLDER"]) / name


def _doc_type(value) -> str:
    if not isinstance(value, str) or value not in DOCUMENT_TYPES:
        _refuse(422, _l("Choose what kind of document this is."), field="doc_type")
    return value


def _filename(value) -> str:
    name = value.replace("\\", "/").rsplit("/", 1)[-1] if isinstance(value, str) else ""
    name = "".join(ch for ch in name if ch.isprintable())
    return name.strip()[:120]


def save_document(actor, order: Order, data: bytes, doc_type, *, filename="", client_id=None,
                  label=None) -> Document:
    """Clean and store a document of an order (actor None: a tracking-link contact, label).

    The same paper sent again to the same order as the same kind is the document already
    there: a copy queued twice, or sent from two phones, is stored once."""
    if actor is not None and order_side(actor, order) is None:
        raise ApiError(404)
    doc_type = _doc_type(doc_type)
    stored, thumb, mime, pages = clean_document(data)
    digest = hashlib.sha256(stored).hexdigest()
    existing = db.session.scalar(select(Document).where(
        Document.order_id == order.id, Document.sha256 == digest, Document.doc_type == doc_type,
        Document.deleted_at.is_(None)))
    if existing is not None:
        return existing
    row = Document(order=order, doc_type=doc_type, sha256=digest, mime=mime, size=len(stored),
                   pages=pages, filename=_filename(filename), uploaded_by=actor,
                   uploaded_by_label=label, client_id=client_id, created_at=utcnow())
    store_files(FIELD, "document", (storage_path(row), stored), (storage_path(row, thumb=True), thumb))
    db.session.add(row)
    order.last_activity_at = row.created_at
    db.session.flush()
    refresh_missing(order)
    return row


def document_from_request(actor, order: Order, upload, doc_type, *, client_id=None,
                          label=None) -> Document:
    """A write's document (an uploaded file), cleaned and stored; refused when there is none."""
    if upload is None or not getattr(upload, "filename", None):
        _refuse(422, _l("Choose the file to attach."))
    return save_document(actor, order, upload.read(MAX_DOCUMENT_BYTES + 1), doc_type,
                         filename=upload.filename, client_id=client_id, label=label)


def get_document(order: Order, document_id) -> Document:
    """A document of this order that has not been removed; 404 otherwise."""
    row = db.session.get(Document, document_id) if isinstance(document_id, int) else None
    if row is None or row.order_id != order.id or row.deleted_at is not None:
        raise ApiError(404)
    return row


def remove_document(actor, order: Order, document_id) -> Document:
    """Its uploader (or an admin) removes a document; removing it again changes nothing."""
    row = db.session.get(Document, document_id) if isinstance(document_id, int) else None
    if row is None or row.order_id != order.id:
        raise ApiError(404)
    if row.uploaded_by_id != actor.id and actor.role != "admin":
        raise ApiError(403, _l("Only the person who attached a document can remove it."))
    if row.deleted_at is None:
        row.deleted_at, row.deleted_by_id = utcnow(), actor.id
        record("document_removed", actor=actor, organization=actor.organization_id,
               details={"order": order.reference, "document": row.id, "type": row.doc_type})
        db.session.flush()
        refresh_missing(order)
    return row


def order_documents(order: Order, *, removed=False) -> list[Document]:
    """An order's documents, oldest first (with the removed ones for the timeline)."""
    stmt = select(Document).where(Document.order_id == order.id).order_by(Document.id)
    if not removed:
        stmt = stmt.where(Document.deleted_at.is_(None))
    return list(db.session.scalars(stmt))


# --- checklists -------------------------------------------------------------------------------

def _applies(rule_product: str, order_product: str) -> bool:
    return not rule_product or fold(rule_product) in fold(order_product)


def required_types(order: Order, rules=None) -> list[str]:
    """The document types the order's crossing needs for its product, in the usual order."""
    if not order.border_crossing:
        return []
    if rules is None:
        rules = db.session.scalars(select(CrossingRequirement).where(
            CrossingRequirement.crossing == order.border_crossing)).all()
    needed = {r.doc_type for r in rules if _applies(r.product, order.product)}
    return [t for t in DOCUMENT_TYPES if t in needed]


def checklist(order: Order, documents) -> list[dict]:
    """The crossing's checklist for this order: each needed type, ticked when attached."""
    present = {d.doc_type for d in documents if d.deleted_at is None}
    return [{"doc_type": t, "label": type_label(t), "present": t in present}
            for t in required_types(order)]


def missing_types(order: Order) -> list[str]:
    """The needed document types the order has none of."""
    needed = required_types(order)
    if not needed:
        return []
    present = set(db.session.scalars(select(Document.doc_type).where(
        Document.order_id == order.id, Document.deleted_at.is_(None))))
    return [t for t in needed if t not in present]


def _missing_text(missing) -> str | None:
    return ",".join(missing)[:300] or None


def refresh_missing(order: Order) -> None:
    """Keep orders.missing_documents (what the dashboard lists) true to the checklist."""
    value = _missing_text(missing_types(order))
    if order.missing_documents != value:
        order.missing_documents = value


def missing_warning(missing) -> str:
    """The question asked before a dispatch or border report with papers missing."""
    return _("Papers missing for this crossing: %(documents)s. Send anyway?",
             documents=", ".join(type_label(t) for t in missing))


def check_before_report(order: Order, status: str, data: dict, *, ask: bool) -> list[str]:
    """The papers missing for a dispatch or border report. ask (a plain form): refused once
    with the question until the form comes back with send_anyway=1; scripts and the API
    always store the report and get the list in the answer."""
    if status not in CHECKED_STATUSES:
        return []
    missing = missing_types(order)
    if missing and ask and data.get("send_anyway") != "1":
        message = missing_warning(missing)
        raise ApiError(422, message, fields={"send_anyway": message}, code="documents_missing")
    return missing


def crossing_checklists() -> dict[str, dict[str, list[str]]]:
    """Every crossing's checklist: {crossing: {product ("" for all): [types]}}."""
    out = {c: {} for c in BORDER_CROSSINGS}
    for rule in db.session.scalars(select(CrossingRequirement).order_by(
            CrossingRequirement.crossing, CrossingRequirement.product)):
        out.setdefault(rule.crossing, {}).setdefault(rule.product, []).append(rule.doc_type)
    for groups in out.values():
        for product, types in groups.items():
            groups[product] = [t for t in DOCUMENT_TYPES if t in types]
    return out


def set_checklist(actor, crossing, product, types) -> dict[str, list[str]]:
    """What a crossing needs for every product (product "") or for one product word: the
    given types replace that group's; none removes it. Open orders on it follow at once."""
    fields = {}
    if not isinstance(crossing, str) or crossing not in BORDER_CROSSINGS:
        fields["crossing"] = _("Choose a border crossing.")
    product = clean_text(product, "product", fields)  # as long as an order's product may be
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list | tuple) or not all(isinstance(t, str) and t in DOCUMENT_TYPES
                                                      for t in types):
        fields["doc_types"] = _("Choose document types from the list.")
    if fields:
        raise ApiError(422, fields=fields)
    product = str(product).strip()
    rows = db.session.scalars(select(CrossingRequirement).where(
        CrossingRequirement.crossing == crossing, CrossingRequirement.product == product)).all()
    keep = set(types)
    for row in rows:
        if row.doc_type not in keep:
            db.session.delete(row)
    have = {r.doc_type for r in rows}
    for doc_type in DOCUMENT_TYPES:
        if doc_type in keep and doc_type not in have:
            db.session.add(CrossingRequirement(crossing=crossing, product=product, doc_type=doc_type))
    record("checklist_changed", actor=actor, organization=getattr(actor, "organization_id", None),
           details={"crossing": crossing, "product": product, "types": sorted(keep)})
    db.session.flush()
    refresh_crossing(crossing)
    return crossing_checklists()[crossing]


def refresh_crossing(crossing: str) -> None:
    """Recompute what the open orders on a crossing miss (after its checklist changed)."""
    rules = db.session.scalars(select(CrossingRequirement).where(
        CrossingRequirement.crossing == crossing)).all()
    orders = db.session.scalars(select(Order).where(
        Order.border_crossing == crossing, Order.status.not_in(FINAL_STATUSES))).all()
    if not orders:
        return
    present: dict[int, set] = {}
    ids = [o.id for o in orders]
    for start in range(0, len(ids), 500):
        for order_id, doc_type in db.session.execute(select(Document.order_id, Document.doc_type).where(
                Document.order_id.in_(ids[start:start + 500]), Document.deleted_at.is_(None))):
            present.setdefault(order_id, set()).add(doc_type)
    for order in orders:
        needed = required_types(order, rules)
        value = _missing_text([t for t in needed if t not in present.get(order.id, set())])
        if order.missing_documents != value:
            order.missing_documents = value
    db.session.flush()
