"""Orders and their append-only history: status updates, confirmations, deliveries."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    and_,
    event,
    literal_column,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .org import Organization
from .user import User

STATUSES = (
    "accepted",
    "in_production",
    "ready",
    "dispatched",
    "at_border",
    "customs_cleared",
    "in_transit",
    "delivered",
    "cancelled",
)
UPDATE_KINDS = STATUSES + ("note",)
FINAL_STATUSES = ("delivered", "cancelled")
REFERENCE_MAX = 12  # "SEC-" and six letters, with room to spare


def normalize_reference(reference) -> str | None:
    """A reference as stored ("sec-7k3f9q " -> "SEC-7K3F9Q"), or None when it cannot be one."""
    if not isinstance(reference, str):
        return None
    reference = reference.strip().upper()
    return reference if 0 < len(reference) <= REFERENCE_MAX else None

CURRENCIES = ("KHR", "LAK", "MMK", "THB", "VND", "USD")
CONDITIONS = ("good", "damaged", "short", "wrong_item")
BORDER_CROSSINGS = (
    "aranyaprathet_poipet",
    "bavet_moc_bai",
    "hat_lek_cham_yeam",
    "phu_nam_ron_htee_kee",
    "mae_sot_myawaddy",
    "nong_khai_vientiane",
)

update_photos = Table(
    "update_photos",
    db.metadata,
    Column("update_id", ForeignKey("status_updates.id", ondelete="CASCADE"), primary_key=True),
    Column("attachment_id", ForeignKey("attachments.id"), primary_key=True),
)
delivery_photos = Table(
    "delivery_photos",
    db.metadata,
    Column(
        "delivery_id", ForeignKey("delivery_confirmations.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("attachment_id", ForeignKey("attachments.id"), primary_key=True),
)


class Order(db.Model):
    """An order between a producer organization and a customer organization."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # Lists, newest activity first: the id breaks ties (orders written by one import share
        # a moment), so an index gives the exact order and a page reads only its own rows.
        Index("ix_orders_last_activity_at", "last_activity_at", "id"),
        Index("ix_orders_producer_activity", "producer_org_id", "last_activity_at", "id"),
        Index("ix_orders_customer_activity", "customer_org_id", "last_activity_at", "id"),
        # Coordinator dashboard: overdue orders (due before today, not final) per producer.
        Index("ix_orders_producer_overdue", "producer_org_id", "due_date", "status",
              sqlite_where=text("status NOT IN ('delivered', 'cancelled')"),
              postgresql_where=text("status NOT IN ('delivered', 'cancelled')")),
        # ... and the most overdue first, stopping at the page's 25th in scope.
        Index("ix_orders_open_due", "due_date", "id",
              sqlite_where=text("status NOT IN ('delivered', 'cancelled')"),
              postgresql_where=text("status NOT IN ('delivered', 'cancelled')")),
        # Search (LIKE '%word%') on PostgreSQL: a trigram index finds a rare word without
        # reading every order. SQLite has its own: ORDERS_SEARCH below.
        Index("ix_orders_search_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX), unique=True)
    producer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    customer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    product: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    origin: Mapped[str] = mapped_column(String(120))
    destination: Mapped[str] = mapped_column(String(120))
    border_crossing: Mapped[str | None] = mapped_column(String(40), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="accepted", index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The papers its crossing's checklist needs and it lacks ("invoice,packing_list"), None
    # when none is missing (secgo.documents.services keeps it; the dashboard lists these).
    missing_documents: Mapped[str | None] = mapped_column(String(300))
    # The 6-digit code the receiver types at handover: shown to the producer side only
    # (secgo.orders.handover); made on first need, so older orders get one too.
    handover_code: Mapped[str | None] = mapped_column(String(6))
    # +1 with every change to what its page shows (secgo/pagecache.py: the kept order page)
    data_version: Mapped[int] = mapped_column(server_default="0")

    producer_org: Mapped[Organization] = relationship(foreign_keys=[producer_org_id])
    customer_org: Mapped[Organization] = relationship(foreign_keys=[customer_org_id])
    created_by: Mapped[User | None] = relationship()
    updates: Mapped[list["StatusUpdate"]] = relationship(
        back_populates="order", order_by="StatusUpdate.id"
    )

    @hybrid_property
    def is_final(self) -> bool:
        """Delivered or cancelled: no status follows."""
        return self.status in FINAL_STATUSES

    @is_final.inplace.expression
    @classmethod
    def _is_final_expression(cls):
        # Constants, not parameters, so SQLite can use the partial indexes on open orders.
        return cls.status.in_([_sql_text(s) for s in FINAL_STATUSES])

    @hybrid_method
    def is_overdue(self, today: date) -> bool:
        """Due before today (the viewer's day) and neither delivered nor cancelled."""
        return bool(self.due_date and self.due_date < today and not self.is_final)

    @is_overdue.inplace.expression
    @classmethod
    def _is_overdue_expression(cls, today: date):
        return and_(cls.due_date < today, cls.status.not_in([_sql_text(s) for s in FINAL_STATUSES]))


def _sql_text(value: str):
    """A constant SQL string of one of our own codes (never user input)."""
    return literal_column(f"'{value}'")


# The trigram operators of ix_orders_search_trgm (a trusted extension: the database owner may
# create it). The migration creates it too.
PG_TRGM = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
event.listen(Order.__table__, "before_create", DDL(PG_TRGM).execute_if(dialect="postgresql"))

# Search on SQLite: an FTS5 trigram index of orders.search_text (SQLite has no index for
# LIKE '%word%'). An external-content table kept by triggers, so every write path keeps it
# without knowing of it; a phrase query on it finds exactly the orders whose search_text
# contains the (folded) words, for three characters or more (orders.services). The migration
# creates the same.
ORDERS_SEARCH = "orders_search"
SQLITE_SEARCH_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {ORDERS_SEARCH} USING fts5(search_text, "
    "content='orders', content_rowid='id', tokenize='trigram case_sensitive 1')",
    f"CREATE TRIGGER IF NOT EXISTS {ORDERS_SEARCH}_insert AFTER INSERT ON orders BEGIN "
    f"INSERT INTO {ORDERS_SEARCH} (rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {ORDERS_SEARCH}_delete AFTER DELETE ON orders BEGIN "
    f"INSERT INTO {ORDERS_SEARCH} ({ORDERS_SEARCH}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {ORDERS_SEARCH}_update AFTER UPDATE OF search_text ON orders "
    f"BEGIN INSERT INTO {ORDERS_SEARCH} ({ORDERS_SEARCH}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {ORDERS_SEARCH} (rowid, search_text) VALUES (new.id, new.search_text); END",
)
for _statement in SQLITE_SEARCH_DDL:
    event.listen(Order.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
event.listen(Order.__table__, "after_drop",
             DDL(f"DROP TABLE IF EXISTS {ORDERS_SEARCH}").execute_if(dialect="sqlite"))


class StatusUpdate(db.Model):
    """An append-only event on an order: a status change or a note; never edited."""

    __tablename__ = "status_updates"
    __table_args__ = (
        Index("ix_status_updates_order_id_id", "order_id", "id"),
        # Updates awaiting confirmation (per order list badge, dashboard): a small partial
        # index that covers the query (status and confirmed_at avoid reading the table).
        Index("ix_status_updates_awaiting", "order_id", "recorded_at", "status", "confirmed_at",
              sqlite_where=text("confirmed_at IS NULL AND status <> 'note'"),
              postgresql_where=text("confirmed_at IS NULL AND status <> 'note'")),
        # ... and the oldest of them first (dashboard list, updates awaiting confirmation).
        Index("ix_status_updates_awaiting_recorded", "recorded_at",
              sqlite_where=text("confirmed_at IS NULL AND status <> 'note'"),
              postgresql_where=text("confirmed_at IS NULL AND status <> 'note'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    note_original: Mapped[str | None] = mapped_column(Text)  # Zawgyi text as typed
    phrases: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # quick phrases: [{code, params}] (secgo.phrases)
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_label: Mapped[str | None] = mapped_column(String(80))  # tracking-link contacts
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("status_updates.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_by_label: Mapped[str | None] = mapped_column(String(80))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirm_comment: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    corrects: Mapped["StatusUpdate | None"] = relationship(remote_side=[id])
    photos: Mapped[list["Attachment"]] = relationship(secondary=update_photos)  # noqa: F821
    voice_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    voice: Mapped["Attachment | None"] = relationship()  # noqa: F821

    @hybrid_property
    def awaiting_confirmation(self) -> bool:
        """A status change the customer has not confirmed yet (notes need no confirmation)."""
        return self.status != "note" and self.confirmed_at is None

    @awaiting_confirmation.inplace.expression
    @classmethod
    def _awaiting_confirmation_expression(cls):
        # The terms of the partial indexes ix_status_updates_awaiting*, as constants.
        return and_(cls.confirmed_at.is_(None), cls.status != _sql_text("note"))


class DeliveryConfirmation(db.Model):
    """The customer's word on what arrived; anything but full and good opens an issue."""

    __tablename__ = "delivery_confirmations"
    __table_args__ = (
        CheckConstraint(
            "condition IN ('good', 'damaged', 'short', 'wrong_item')", name="condition"
        ),
        CheckConstraint("received_quantity >= 0", name="received_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    received_quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    condition: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    note_original: Mapped[str | None] = mapped_column(Text)  # Zawgyi text as typed
    phrases: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # quick phrases: [{code, params}] (secgo.phrases)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_by_label: Mapped[str | None] = mapped_column(String(80))
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship()
    confirmed_by: Mapped[User | None] = relationship()
    photos: Mapped[list["Attachment"]] = relationship(secondary=delivery_photos)  # noqa: F821
    voice_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    voice: Mapped["Attachment | None"] = relationship(foreign_keys=[voice_id])  # noqa: F821
    # Proof at handover (secgo.orders.handover): who received the goods, and how they proved
    # it: "signature" (signature_id: the drawing, re-encoded) or "code" (the producer's code).
    receiver_name: Mapped[str | None] = mapped_column(String(80))
    proof: Mapped[str | None] = mapped_column(String(12))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    signature: Mapped["Attachment | None"] = relationship(foreign_keys=[signature_id])  # noqa: F821


class TrackingLink(db.Model):
    """A signed, revocable link for a customer's staff who have no account."""

    __tablename__ = "tracking_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contact_name: Mapped[str] = mapped_column(String(80))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
