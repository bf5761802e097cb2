"""Attachments, idempotency keys, push subscriptions, the notification outbox, reminders."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .user import User


class Attachment(db.Model):
    """A re-encoded photo, a voice note or a cleaned PDF (a profile's certificate) stored under
    the instance folder by content hash."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("uploaded_by_id", "photo_key", name="uq_attachments_photo_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One row per uploader (who may reference it in a write); the file itself is shared.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    mime: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)  # voice notes (secgo.attachments.voice)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The data saver (secgo.attachments.saver): a small preview sent first under the phone's
    # own id for the photo; the full photo replaces it later (preview False again), once.
    preview: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    photo_key: Mapped[str | None] = mapped_column(String(36))
    wanted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a viewer asked for the full one

    @property
    def is_voice(self) -> bool:
        return self.mime.startswith("audio/")

    @property
    def is_pdf(self) -> bool:
        return self.mime == "application/pdf"  # a certificate (secgo.documents' one intake)

    @property
    def extension(self) -> str:
        return "m4a" if self.is_voice else "pdf" if self.is_pdf else "jpg"

    @property
    def storage_name(self) -> str:
        return f"{self.sha256[:2]}/{self.sha256}.{self.extension}"


class IdempotencyKey(db.Model):
    """A write's client UUID and the answer it got, so a replay gets the same answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_key", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_key: Mapped[str] = mapped_column(String(40))  # "u<id>" or "t<tracking link id>"
    key: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(80))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict] = mapped_column(JSON)
    location: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushSubscription(db.Model):
    """One device's Web Push subscription."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    events: Mapped[list] = mapped_column(JSON, default=list)  # empty = every event
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Notification(db.Model):
    """Outbox row: written in the same transaction as the event that causes it."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    url: Mapped[str] = mapped_column(String(300), default="/")
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker's claim: while lease_until is in the future no other worker touches the row.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class PushDelivery(db.Model):
    """One notification's outcome on one device, so a retry never sends to it twice."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "subscription_id", name="uq_push_deliveries_device"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(10))  # sent | failed
    status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reminder(db.Model):
    """A reminder given: at most one per person, kind, order and day (secgo/notify/reminders.py).

    The unique constraint is what keeps several push workers from reminding twice; `day` is
    the recipient's own day the reminder arrives on (the Monday of the week, for a digest)."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "order_key", "day", name="uq_reminders_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    order_key: Mapped[int] = mapped_column(Integer)  # the order's id; 0 when about no one order
    day: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
