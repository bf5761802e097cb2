"""Business matching (issue 20): forums where buyers meet producers, the matches made there,
each match's steps (contacted, sample sent, first order, repeat order, or no longer pursued)
and the follow-up reminders given to coordinators."""
from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .org import Organization
from .user import User

# The way a match goes; "dropped" (no longer pursued) may follow any of them, with a reason.
STAGES = ("matched", "contacted", "sample_sent", "first_order", "repeat_order")
MATCH_STAGES = STAGES + ("dropped",)
FOLLOW_UP_MONTHS = (3, 6, 12)

event_organizations = Table(
    "matching_event_organizations",
    db.metadata,
    Column("event_id", ForeignKey("matching_events.id", ondelete="CASCADE"), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), primary_key=True),
)


class MatchingEvent(db.Model):
    """A business-matching forum: who took part (buyers and producers), when and where."""

    __tablename__ = "matching_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(160), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organizations: Mapped[list[Organization]] = relationship(secondary=event_organizations,
                                                             order_by=Organization.name)
    matches: Mapped[list["Match"]] = relationship(back_populates="event", order_by="Match.id")
    created_by: Mapped[User | None] = relationship()


class Match(db.Model):
    """A buyer and a producer who met at an event and agreed to follow up on some products."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("event_id", "buyer_org_id", "producer_org_id", name="uq_matches_pair"),
        Index("ix_matches_pair", "producer_org_id", "buyer_org_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("matching_events.id", ondelete="CASCADE"), index=True)
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    producer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    products: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(20), default="matched")
    stage_on: Mapped[date] = mapped_column(Date)  # when the current stage was reached
    first_order_on: Mapped[date | None] = mapped_column(Date)  # reached, even if dropped later
    repeat_order_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[MatchingEvent] = relationship(back_populates="matches")
    buyer_org: Mapped[Organization] = relationship(foreign_keys=[buyer_org_id])
    producer_org: Mapped[Organization] = relationship(foreign_keys=[producer_org_id])
    steps: Mapped[list["MatchStep"]] = relationship(back_populates="match", order_by="MatchStep.id")


class MatchStep(db.Model):
    """One step of a match, append-only: set by a coordinator, or by an order (order_id)."""

    __tablename__ = "match_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    match: Mapped[Match] = relationship(back_populates="steps")
    actor: Mapped[User | None] = relationship()
    order: Mapped["Order | None"] = relationship()  # noqa: F821


class MatchFollowUp(db.Model):
    """A follow-up reminder given to a coordinator about an event, once per 3, 6 and 12 months.

    Kept for good (the `reminders` rows are forgotten after a fortnight): the unique
    constraint is what keeps several push workers, and later scans, from reminding twice."""

    __tablename__ = "match_follow_ups"
    __table_args__ = (UniqueConstraint("event_id", "user_id", "months", name="uq_match_follow_ups_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("matching_events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    months: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
