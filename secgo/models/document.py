"""An order's papers (invoice, packing list, certificates) and what each crossing needs."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .order import Order
from .user import User

# The papers a cross-border shipment in the corridor commonly needs; "other" for the rest.
DOCUMENT_TYPES = (
    "commercial_invoice",
    "packing_list",
    "certificate_of_origin",
    "phytosanitary",
    "fumigation",
    "export_permit",
    "delivery_note",
    "other",
)
# Reports that go with papers: posting one with a required paper missing asks first.
CHECKED_STATUSES = ("dispatched", "at_border")


class Document(db.Model):
    """A paper attached to an order: a cleaned PDF or a re-encoded photo of paper, kept by
    content hash. Removing it only marks it removed (the timeline and the audit keep it)."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_order_id", "order_id", "id"),
        # One document per (uploader, request id): a replay, or two racing copies of one
        # queued upload, can never store two.
        UniqueConstraint("uploaded_by_id", "client_id", name="uq_documents_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    doc_type: Mapped[str] = mapped_column(String(30))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    mime: Mapped[str] = mapped_column(String(40))  # application/pdf or image/jpeg
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer, default=1)
    filename: Mapped[str] = mapped_column(String(120), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_by_label: Mapped[str | None] = mapped_column(String(80))  # tracking-link contacts
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    order: Mapped[Order] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    @property
    def is_pdf(self) -> bool:
        return self.mime == "application/pdf"

    @property
    def storage_name(self) -> str:
        return f"documents/{self.sha256[:2]}/{self.sha256}.{'pdf' if self.is_pdf else 'jpg'}"

    @property
    def thumb_name(self) -> str:
        return f"documents/{self.sha256[:2]}/{self.sha256}.thumb.jpg"


class CrossingRequirement(db.Model):
    """A paper a border crossing needs: for every product (product "") or for orders whose
    product names this word (e.g. "mango")."""

    __tablename__ = "crossing_requirements"
    __table_args__ = (
        UniqueConstraint("crossing", "product", "doc_type", name="uq_crossing_requirements"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    crossing: Mapped[str] = mapped_column(String(40), index=True)
    product: Mapped[str] = mapped_column(String(120), default="")
    doc_type: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Coordinator dashboard: orders dispatched or at the border with papers missing, most recent
# activity first (orders.missing_documents is kept by secgo.documents.services).
MISSING_INDEX_WHERE = "missing_documents IS NOT NULL AND status IN ('dispatched', 'at_border')"
Index("ix_orders_documents_missing", Order.__table__.c.last_activity_at,
      sqlite_where=text(MISSING_INDEX_WHERE), postgresql_where=text(MISSING_INDEX_WHERE))
