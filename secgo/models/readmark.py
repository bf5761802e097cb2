"""When a person last opened an order's, an issue's or an enquiry's page (their unread marks)."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime

READ_KINDS = ("order", "issue", "enquiry")


class ReadMark(db.Model):
    """One person's last look at one order or issue (secgo.readmarks reads and writes it)."""

    __tablename__ = "read_marks"
    __table_args__ = (CheckConstraint("kind IN ('order', 'issue', 'enquiry')", name="kind"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    # An order's, issue's or enquiry's id (by kind): none is deleted one by one.
    target_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
