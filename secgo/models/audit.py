"""The audit trail: account and permission events, append-only."""
from datetime import datetime

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

# The database itself refuses to change a recorded event (deleting old ones is the retention
# rule's, `flask audit-prune`). The migration creates the same triggers.
APPEND_ONLY = {
    "sqlite": "CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events "
              "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    ],
}


class AuditEvent(db.Model):
    """Who did what to which account or permission, when, and from which address."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_org_time", "organization_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The organization the event concerns (the subject's, or the one acted on): coordinators
    # see the events of the organizations they manage.
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    remote_addr: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


def _append_only(table, connection, **_kw):
    statements = APPEND_ONLY.get(connection.dialect.name, [])
    for statement in [statements] if isinstance(statements, str) else statements:
        connection.execute(DDL(statement))


event.listen(AuditEvent.__table__, "after_create", _append_only)


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, _target):
    raise ValueError("audit events are append-only")
