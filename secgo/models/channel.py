"""Notification channels beside Web Push (Telegram, SMS) and what each carried."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .user import User

CHANNELS = ("telegram", "sms")


class ChannelLink(db.Model):
    """One person's Telegram chat or SMS number: linked or confirmed, on or off.

    `address` is where messages go (a Telegram chat id, an E.164 number) and is set only once
    the person proved it is theirs (the bot's /start with a one-time token; the SMS code).
    Until then `pending` holds the number waiting for its code, and `secret_hash` the hash of
    the one-time token or code, valid until `secret_expires_at`.
    """

    __tablename__ = "channel_links"
    __table_args__ = (UniqueConstraint("user_id", "channel", name="uq_channel_links_user_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(40), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending: Mapped[str | None] = mapped_column(String(40))
    secret_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    @property
    def linked(self) -> bool:
        """True when messages can go to it (an address proved, whether on or off)."""
        return bool(self.address)


class ChannelDelivery(db.Model):
    """One notification's outcome on one channel, so a retry never sends it there twice."""

    __tablename__ = "channel_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_channel_deliveries_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10))  # sending | sent | failed
    status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
