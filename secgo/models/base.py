"""Column types and helpers shared by every model."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, TypeDecorator


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Store UTC; always hand back aware datetimes (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def schema_objects_for(dialect_name: str):
    """An Alembic include_object hook: leave out what the models create only on another
    database (an Index(...).ddl_if(dialect=...)); autogenerate does not look at ddl_if."""

    def include_object(obj, name, type_, reflected, _compare_to):
        if type_ == "table" and reflected and name.startswith("orders_search"):
            return False  # SQLite's search index (models.order.SQLITE_SEARCH_DDL), not a model
        if type_ == "index" and obj.info.get("expressions"):
            return False  # on expressions: not reflected; tests check the migration makes it
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect_name)

    return include_object
