"""Issues on orders, their comments and their state history."""
from datetime import datetime

from sqlalchemy import (JSON, CheckConstraint, Column, ForeignKey, Index, String, Table, Text, case, event,
                        func, literal_column, text)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .order import Order
from .user import User

CATEGORIES = ("delay", "quality", "quantity", "documents_customs", "transport", "payment", "other")
SEVERITIES = ("low", "medium", "high")
STATES = ("open", "acknowledged", "resolved", "closed", "reopened")
# "Open" everywhere (lists, dashboard, CSV, notifications, API): someone still has to act on
# it. A resolved issue waits for its reporter to close or reopen it, and is not open.
OPEN_STATES = ("open", "acknowledged", "reopened")
WAITING_FOR_CLOSE = "resolved"

issue_photos = Table(
    "issue_photos",
    db.metadata,
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("attachment_id", ForeignKey("attachments.id"), primary_key=True),
)
comment_photos = Table(
    "comment_photos",
    db.metadata,
    Column("comment_id", ForeignKey("issue_comments.id", ondelete="CASCADE"), primary_key=True),
    Column("attachment_id", ForeignKey("attachments.id"), primary_key=True),
)


class Issue(db.Model):
    """A problem on an order, owned until the reporter says it is fixed."""

    __tablename__ = "issues"
    __table_args__ = (
        CheckConstraint(
            "category IN ('delay', 'quality', 'quantity', 'documents_customs', 'transport',"
            " 'payment', 'other')",
            name="category",
        ),
        CheckConstraint("severity IN ('low', 'medium', 'high')", name="severity"),
        CheckConstraint(
            "state IN ('open', 'acknowledged', 'resolved', 'closed', 'reopened')", name="state"
        ),
        Index("ix_issues_state_created", "state", "created_at"),
        Index("ix_issues_raised_by_id", "raised_by_id"),
        Index("ix_issues_updated", "updated_at", "id"),  # issue lists: newest activity first
        Index("ix_issues_created", "created_at"),  # dashboard figures of a period
        # Who may see an issue, without joining its order (lists, counts, dashboard): the
        # order's two organizations, copied at insert (an order never changes hands).
        Index("ix_issues_producer_state", "producer_org_id", "state", "severity", "created_at",
              "first_response_at"),  # covers the dashboard's open counts and most urgent
        # The dashboard's figures of a period (counts by cluster x category x crossing, the
        # median times) read from the index alone on PostgreSQL (SQLite has no INCLUDE).
        Index("ix_issues_producer_created", "producer_org_id", "created_at",
              postgresql_include=["category", "border_crossing", "first_response_at", "resolved_at"]),
        Index("ix_issues_customer_updated", "customer_org_id", "updated_at"),
        # The producer's (and a coordinator's producers') recent activity: unread counts in
        # the tab bar read only the last weeks' issues, not every issue of the organization.
        Index("ix_issues_producer_updated", "producer_org_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    producer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))  # = the order's
    customer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))  # = the order's
    # = the order's too (set when the order is made, never changed): the dashboard counts
    # issues by crossing, and filters them by it, without joining their orders.
    border_crossing: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(140))  # as typed; in English when composed
    title_original: Mapped[str | None] = mapped_column(Text)  # Zawgyi text as typed
    # A title the app composed ({code, params}, secgo.phrases), shown in each reader's language.
    title_phrase: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    phrases: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # quick phrases: [{code, params}]
    # The status update it says is not right ("This is wrong" beside Confirm).
    update_id: Mapped[int | None] = mapped_column(ForeignKey("status_updates.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    description_original: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="open")
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    raised_by_label: Mapped[str | None] = mapped_column(String(80))
    raised_by_side: Mapped[str] = mapped_column(String(12))  # producer | customer | coordinator
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    photos: Mapped[list["Attachment"]] = relationship(secondary=issue_photos)  # noqa: F821
    voice_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    voice: Mapped["Attachment | None"] = relationship()  # noqa: F821
    comments: Mapped[list["IssueComment"]] = relationship(
        back_populates="issue", order_by="IssueComment.id"
    )
    events: Mapped[list["IssueEvent"]] = relationship(
        back_populates="issue", order_by="IssueEvent.id"
    )

    @property
    def shown_title(self) -> str:
        """The title in the reader's language: one the app composed is rendered from its code,
        one a person typed is shown as typed."""
        from ..phrases import title

        return title(self.title, self.title_phrase)

    @hybrid_property
    def is_open(self) -> bool:
        """Still needs someone to act on it (the one definition of an open issue)."""
        return self.state in OPEN_STATES

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return cls.state.in_(OPEN_STATES)

    @hybrid_property
    def awaits_answer(self) -> bool:
        """Open, and nobody has answered it yet (the lists' "No answer yet", the dashboard's
        and the notices' unanswered issues)."""
        return self.is_open and self.first_response_at is None

    @awaits_answer.inplace.expression
    @classmethod
    def _awaits_answer_expression(cls):
        return cls.state.in_(OPEN_STATES) & cls.first_response_at.is_(None)

    @hybrid_property
    def waits_for_close(self) -> bool:
        """Marked resolved: waits for its reporter to close or reopen it."""
        return self.state == WAITING_FOR_CLOSE

    @waits_for_close.inplace.expression
    @classmethod
    def _waits_for_close_expression(cls):
        return cls.state == WAITING_FOR_CLOSE


SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}


def urgency_order() -> tuple:
    """The most urgent open issue first: the most severe, then those still unanswered, then
    the longest waiting. Written with its values in the SQL (no parameters), so that both
    databases read it from the index below instead of sorting every open issue."""
    rank = case(*((Issue.severity == literal_column(f"'{name}'"), literal_column(str(n)))
                  for name, n in SEVERITY_RANK.items()), else_=literal_column("0"))
    # (in parentheses: PostgreSQL takes an index on an expression only so)
    return (Grouping(rank).desc(), Grouping(Issue.first_response_at.is_(None)).desc(),
            func.coalesce(Issue.first_response_at, Issue.created_at).asc(), Issue.id.asc())


# The dashboard's most urgent issues: read in this order, only the open ones, stopping at
# the first ten in the coordinator's scope (a coordinator of 19,000 open issues: 2 ms, not 80).
_OPEN_LITERAL = "state IN (" + ", ".join(f"'{s}'" for s in OPEN_STATES) + ")"
Index("ix_issues_urgency", *urgency_order(), postgresql_where=text(_OPEN_LITERAL),
      sqlite_where=text(_OPEN_LITERAL), info={"expressions": True})


@event.listens_for(Issue, "before_insert")
def _copy_order_organizations(_mapper, _connection, issue: Issue) -> None:
    """An issue is seen by whoever sees its order: keep the order's organizations on it, and
    its border crossing (the dashboard's figures by crossing), none of which ever changes."""
    order = issue.order if issue.order is not None else db.session.get(Order, issue.order_id)
    issue.producer_org_id = order.producer_org_id
    issue.customer_org_id = order.customer_org_id
    issue.border_crossing = order.border_crossing


class IssueEvent(db.Model):
    """One transition of an issue's state: who, when, from, to, why."""

    __tablename__ = "issue_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(12), default="open")
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_side: Mapped[str | None] = mapped_column(String(12))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[Issue] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class IssueComment(db.Model):
    """A message in an issue's thread."""

    __tablename__ = "issue_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_label: Mapped[str | None] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    body_original: Mapped[str | None] = mapped_column(Text)
    phrases: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # quick phrases: [{code, params}]
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[Issue] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()
    photos: Mapped[list["Attachment"]] = relationship(secondary=comment_photos)  # noqa: F821
    voice_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    voice: Mapped["Attachment | None"] = relationship()  # noqa: F821
