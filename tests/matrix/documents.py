"""Document routes (pages and API) and the crossings' checklists.

Documents are attached to the world's order (SEC-WRLD01) or a fresh one; the producer is the
uploader of the documents the rows act on (tests.factories.matrix_document), so only it (and an
admin) may remove them.
"""
import io

from tests.factories import matrix_document, matrix_order, pdf_bytes

from .common import api, as_json, multipart, order_side, staff_only

REF = "SEC-WRLD01"


def _doc(suffix="", api_prefix=""):
    return lambda w: f"{api_prefix}/orders/{REF}/documents/{matrix_document(w)}{suffix}"


def _upload_body(file_field):
    return multipart(lambda w: {"doc_type": "packing_list",
                                file_field: (io.BytesIO(pdf_bytes("PACKING LIST")), "list.pdf")})


ROUTES = {
    "documents.upload": (
        "POST", lambda w: f"/orders/{matrix_order(w)}/documents", order_side(303),
        _upload_body("document"),
    ),
    "documents.download": ("GET", _doc(), order_side(200), None),
    "documents.thumb": ("GET", _doc("/thumb"), order_side(200), None),
    # Only the uploader (the producer) or an admin removes a document; the others who see it: 403.
    "documents.remove": (
        "POST", _doc("/remove"), order_side(303, customer=403, coordinator=403), None,
    ),
    "documents.checklists": ("GET", "/coordinator/checklists", staff_only(200), None),
    "api.documents_list": ("GET", f"/api/v1/orders/{REF}/documents", order_side(200, anon=401), None),
    "api.documents_create": (
        "POST", lambda w: f"/api/v1/orders/{matrix_order(w)}/documents",
        order_side(201, anon=401), _upload_body("file"),
    ),
    "api.documents_read": ("GET", _doc(api_prefix="/api/v1"), order_side(200, anon=401), None),
    "api.documents_remove": (
        "DELETE", _doc(api_prefix="/api/v1"), order_side(200, customer=403, coordinator=403,
                                                         anon=401), None,
    ),
    "api.checklist_read": ("GET", "/api/v1/crossings/mae_sot_myawaddy/checklist", api(200), None),
    "api.checklist_set": (
        "PUT", "/api/v1/crossings/mae_sot_myawaddy/checklist",
        {**api(403), "coordinator": 200, "admin": 200, "other_coordinator": 200},
        as_json({"doc_types": ["commercial_invoice", "packing_list"]}),
    ),
}
UNIFORM = {
    "api.checklist_read": "what a border crossing needs is the same for everyone who ships "
                          "through it (setting it is for coordinators: api.checklist_set)",
}
