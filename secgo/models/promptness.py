"""Promptness and border-time figures, precomputed per month by the push worker
(secgo/coordinator/promptness.py), and the delivery times of each route."""
from datetime import datetime

from sqlalchemy import Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class PromptnessRollup(db.Model):
    """One month of one group's figures (all, a cluster, producer, customer or crossing), as
    seen by one scope: "all" (admins) or one set of clusters (the coordinators who have it)."""

    __tablename__ = "promptness_rollups"
    __table_args__ = (UniqueConstraint("scope", "month", "dim", "key", name="uq_promptness_rollups_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM (UTC)
    dim: Mapped[str] = mapped_column(String(10))  # all | cluster | producer | customer | crossing
    key: Mapped[str] = mapped_column(String(40))  # "" | id | crossing code
    # report delay: status updates first recorded this month (a correction counts with the update it corrects)
    updates: Mapped[int] = mapped_column(Integer, default=0)
    delay_median: Mapped[float | None] = mapped_column(Float)  # seconds
    delay_p90: Mapped[float | None] = mapped_column(Float)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    confirm_median: Mapped[float | None] = mapped_column(Float)  # seconds
    # orders delivered this month: milestones reported, and on time
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    with_dispatched: Mapped[int] = mapped_column(Integer, default=0)
    with_crossing: Mapped[int] = mapped_column(Integer, default=0)
    with_at_border: Mapped[int] = mapped_column(Integer, default=0)
    with_customs: Mapped[int] = mapped_column(Integer, default=0)
    with_delivered: Mapped[int] = mapped_column(Integer, default=0)
    with_due: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    # shipments that reached the border this month: at_border -> customs_cleared
    shipments: Mapped[int] = mapped_column(Integer, default=0)
    border_median: Mapped[float | None] = mapped_column(Float)  # hours
    border_p90: Mapped[float | None] = mapped_column(Float)


class RouteTime(db.Model):
    """How many days deliveries on one route took from dispatch: the expected arrival."""

    __tablename__ = "route_times"
    __table_args__ = (UniqueConstraint("producer_country", "producer_province", "customer_org_id",
                                       "crossing", name="uq_route_times_route"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_country: Mapped[str] = mapped_column(String(2))
    producer_province: Mapped[str] = mapped_column(String(80))
    customer_org_id: Mapped[int] = mapped_column(Integer)
    crossing: Mapped[str] = mapped_column(String(40))  # "" without a crossing
    deliveries: Mapped[int] = mapped_column(Integer)
    low_days: Mapped[int] = mapped_column(Integer)
    high_days: Mapped[int] = mapped_column(Integer)


class RollupState(db.Model):
    """Where a precomputation got to, and which worker holds it now (a lease)."""

    __tablename__ = "rollup_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
