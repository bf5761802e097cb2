"""Clusters and organizations."""
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, String, Table, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

COUNTRIES = ("KH", "LA", "MM", "TH", "VN")
ORG_KINDS = ("producer", "customer")

cluster_coordinators = Table(
    "cluster_coordinators",
    db.metadata,
    Column("cluster_id", ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Cluster(db.Model):
    """A group of producers of one product who work and export together."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    province: Mapped[str] = mapped_column(String(80))
    product: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organizations: Mapped[list["Organization"]] = relationship(back_populates="cluster")
    coordinators: Mapped[list["User"]] = relationship(  # noqa: F821
        secondary=cluster_coordinators, back_populates="clusters"
    )


class Organization(db.Model):
    """A producer SME (in a cluster) or a customer (buyer, trader)."""

    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("kind IN ('producer', 'customer')", name="kind"),
        CheckConstraint("kind = 'customer' OR cluster_id IS NOT NULL", name="producer_cluster"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(160))
    country: Mapped[str] = mapped_column(String(2))
    province: Mapped[str] = mapped_column(String(80), default="")
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # +1 with every change to its orders and issues (secgo/pagecache.py)
    data_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # +1 with every change to what its issues list shows (secgo/pagecache.py)
    issues_version: Mapped[int] = mapped_column(server_default="0")
    # False: deactivated by an admin or coordinator (secgo/admin): its people cannot sign in
    # and it is offered for no new order; its history stays.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    cluster: Mapped[Cluster | None] = relationship(back_populates="organizations")
    members: Mapped[list["User"]] = relationship(back_populates="organization")  # noqa: F821
