"""Producer profiles (what a buyer looks for in the directory) and buyers' enquiries."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, Numeric,
                        String, Table, Text, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

CERT_KINDS = ("organic", "gap", "halal", "fair_trade", "gi", "other")
# Where a producer sells: the corridor's countries and the markets its exporters name most.
MARKETS = ("KH", "LA", "MM", "TH", "VN", "CN", "JP", "KR", "SG", "MY", "EU", "US")
SPOKEN = ("km", "lo", "my", "th", "vi", "en", "zh")
# The language a producer writes its own texts in, by its country.
COUNTRY_LANGUAGE = {"KH": "km", "LA": "lo", "MM": "my", "TH": "th", "VN": "vi"}

profile_photos = Table(
    "profile_photos",
    db.metadata,
    Column("org_id", ForeignKey("producer_profiles.org_id", ondelete="CASCADE"), primary_key=True),
    Column("attachment_id", ForeignKey("attachments.id"), primary_key=True),
)


class About:
    """What a producer's and a cluster's profile both tell: a description in their own language
    and in English, whom to call (the phone is private: secgo.authz), the languages spoken and
    the export markets (country codes, comma-separated)."""

    description: Mapped[str] = mapped_column(Text, default="")  # in the owner's language
    description_en: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(80), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")  # private
    contact_languages: Mapped[str] = mapped_column(String(40), default="")  # "km,en"
    export_markets: Mapped[str] = mapped_column(String(60), default="")  # "TH,VN"

    @property
    def languages(self) -> list[str]:
        return [c for c in self.contact_languages.split(",") if c]

    @property
    def markets(self) -> list[str]:
        return [c for c in self.export_markets.split(",") if c]


class Profile(About, db.Model):
    """A producer organization's public face: what it makes, proves and where it sells."""

    __tablename__ = "producer_profiles"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                        primary_key=True)
    capacity_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    show_track_record: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Folded (secgo.i18n.fold): name, province, products, description: the directory's search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organization: Mapped["Organization"] = relationship()  # noqa: F821
    products: Mapped[list["ProfileProduct"]] = relationship(
        cascade="all, delete-orphan", order_by="ProfileProduct.position")
    certifications: Mapped[list["ProfileCertification"]] = relationship(
        cascade="all, delete-orphan", order_by="ProfileCertification.position")
    photos: Mapped[list["Attachment"]] = relationship(secondary=profile_photos)  # noqa: F821


class ClusterProfile(About, db.Model):
    """A cluster's own face in the directory: who it is, where it sells, whom to call. Edited
    by the cluster's coordinators and admins; the phone is private (secgo.authz)."""

    __tablename__ = "cluster_profiles"

    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"),
                                            primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ProfileProduct(db.Model):
    """One product a producer offers: names, unit, typical monthly capacity, season."""

    __tablename__ = "profile_products"
    __table_args__ = (
        CheckConstraint("monthly_capacity IS NULL OR monthly_capacity >= 0", name="capacity"),
        Index("ix_profile_products_org", "org_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("producer_profiles.org_id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    monthly_capacity: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    season_from: Mapped[int | None] = mapped_column(Integer)  # 1-12; none: all year
    season_to: Mapped[int | None] = mapped_column(Integer)
    search_text: Mapped[str] = mapped_column(Text, default="")  # folded names


class ProfileCertification(db.Model):
    """A certification a producer holds, with its expiry and an optional scan of it."""

    __tablename__ = "profile_certifications"
    __table_args__ = (Index("ix_profile_certifications_kind", "kind", "expires_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("producer_profiles.org_id", ondelete="CASCADE"),
                                        index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(80), default="")  # the certifier or the scheme
    expires_on: Mapped[date | None] = mapped_column(Date)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))

    document: Mapped["Attachment | None"] = relationship()  # noqa: F821

    def expired(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today


class Enquiry(db.Model):
    """A buyer's question to a producer, and the thread that follows."""

    __tablename__ = "enquiries"
    __table_args__ = (
        Index("ix_enquiries_producer_updated", "producer_org_id", "updated_at"),
        Index("ix_enquiries_customer_updated", "customer_org_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    customer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    product: Mapped[str] = mapped_column(String(120), default="")
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    unit: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    producer_org: Mapped["Organization"] = relationship(foreign_keys=[producer_org_id])  # noqa: F821
    customer_org: Mapped["Organization"] = relationship(foreign_keys=[customer_org_id])  # noqa: F821
    messages: Mapped[list["EnquiryMessage"]] = relationship(
        cascade="all, delete-orphan", order_by="EnquiryMessage.id", back_populates="enquiry")


class EnquiryMessage(db.Model):
    """One message of an enquiry's thread."""

    __tablename__ = "enquiry_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(ForeignKey("enquiries.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enquiry: Mapped[Enquiry] = relationship(back_populates="messages")
    author: Mapped["User | None"] = relationship()  # noqa: F821
