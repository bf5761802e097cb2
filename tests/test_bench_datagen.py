"""The benchmarks' data generator (bench/datagen.py): what it writes is what the app writes,
on SQLite and on PostgreSQL, where it loads with COPY and builds the indexes after."""
import sys
from pathlib import Path

from sqlalchemy import func, select, text

from secgo.demo import seed_demo
from secgo.extensions import db
from secgo.models import Issue, Order

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import datagen  # noqa: E402

TABLES = ("orders", "status_updates", "issues", "issue_events")


def _indexes():
    """The names of every index of the bulk tables (those on expressions too)."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:t)"),
                                {"t": list(TABLES)})
        else:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                     "AND tbl_name IN ('orders', 'status_updates', 'issues', 'issue_events')"))
        return sorted(name for name, _definition in rows)  # (PostgreSQL rewrites an expression)


def test_generated_data_keeps_every_index_and_is_found_by_search(app):
    with app.app_context():
        seed_demo()
        db.session.commit()
        before = _indexes()
        counts = datagen.fill(db.engine, orders=60, updates_per_order=4, issues=12, users=40,
                              log=lambda _m: None)
        db.session.remove()
        assert _indexes() == before  # dropped for the load on PostgreSQL, built again after
        assert counts["orders"] >= 60 and counts["status_updates"] >= 240 and counts["issues"] >= 12
        assert counts["size_mb"] > 0
        # The search index covers the generated orders (on PostgreSQL it was built after them).
        found = db.session.scalars(select(Order.reference).where(
            Order.search_text.contains("bench producer"))).all()
        assert len(found) == 60
        # Each issue carries its order's border crossing, as the app copies it at insert.
        pairs = db.session.execute(select(Issue.border_crossing, Order.border_crossing)
                                   .join(Order, Issue.order_id == Order.id)
                                   .where(Issue.title.like("Bench issue %"))).all()
        assert len(pairs) == 12 and all(mine == its for mine, its in pairs)
        assert db.session.scalar(select(func.count(func.distinct(Issue.border_crossing)))) > 1
