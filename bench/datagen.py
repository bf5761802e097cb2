"""Fill a database with years of corridor data, fast (Core bulk inserts; COPY on PostgreSQL).

Default size: 100,000 orders, 1,000,000 status updates, 20,000 issues, 2,000 users, on top
of the demo data (so the demo logins work). `scale` shrinks everything for a quick run.
"""
import contextlib
import itertools
import random
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, insert, select, text

PRODUCTS = [("Organic jasmine rice", "kg"), ("Keo Romeat mango", "t"), ("Silk scarf", "pcs"),
            ("Rattan basket", "pcs"), ("Instant noodle", "carton"), ("Bình gốm Bát Tràng", "pcs"),
            ("Chè xanh hữu cơ", "kg"), ("ผักอินทรีย์รวม", "kg"), ("ຜ້າໄໝມັດໝີ່", "m"),
            ("သရက်သီး", "t"), ("Teak chair", "pcs"), ("Macadamia nuts", "kg")]
NOTES = ["Truck left at 06:00.", "Queue at the border, about 3 hours.", "Packed and labelled.",
         "Đang nung mẻ thứ hai.", "รถออกจากสระแก้วแล้ว", "ໄດ້ຮັບຄຳສັ່ງຊື້ແລ້ວ.", "Customs papers ready.",
         "Waiting for phytosanitary certificate.", "កំពុងកិនស្រូវ។", "Loaded 400 bags."]
STEPS = ["accepted", "in_production", "ready", "dispatched", "at_border", "customs_cleared",
         "in_transit", "delivered"]
CATEGORIES = ["delay", "quality", "quantity", "documents_customs", "transport", "payment", "other"]
ISSUE_STATES = ["open", "acknowledged", "resolved", "closed", "reopened"]
BORDERS = ["aranyaprathet_poipet", "bavet_moc_bai", "hat_lek_cham_yeam", "phu_nam_ron_htee_kee", None]
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def reference(i: int) -> str:
    """A distinct SEC-XXXXXX reference for the i-th generated order (never a demo one)."""
    chars = []
    for _ in range(5):
        i, r = divmod(i, len(REF_ALPHABET))
        chars.append(REF_ALPHABET[r])
    return "SEC-" + "".join(reversed(chars)) + "U"  # demo references never end in U


def _defaults(table, row: dict) -> dict:
    """Row with a value for every column: Python-side defaults for the ones not given."""
    out = {}
    for col in table.columns:
        if col.name in row:
            out[col.name] = row[col.name]
        elif col.primary_key or col.server_default is not None:
            continue
        elif col.default is not None and col.default.is_scalar:
            out[col.name] = col.default.arg
        elif col.default is not None and col.default.is_callable:
            out[col.name] = col.default.arg(None)
        else:
            out[col.name] = None
    return out


class Writer:
    """Bulk-insert rows: COPY on PostgreSQL, executemany elsewhere, in chunks."""

    def __init__(self, conn, chunk=20000):
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.chunk = chunk

    def write(self, table, rows):
        """Insert an iterable of dicts."""
        if self.pg:
            self._copy(table, rows)
            return
        batch = []
        for row in rows:
            batch.append(_defaults(table, row))
            if len(batch) >= self.chunk:
                self.conn.execute(insert(table), batch)
                batch = []
        if batch:
            self.conn.execute(insert(table), batch)

    def _copy(self, table, rows):
        """COPY the rows in: the columns and their defaults worked out once per table, not
        once per row (ten million status updates)."""
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return
        cols = list(_defaults(table, first).keys())
        by_name = {c.name: c for c in table.columns}
        plan = []  # (name, processor, default: (is_callable, value) or None when always given)
        for name in cols:
            col = by_name[name]
            processor = col.type.bind_processor(self.conn.dialect)
            default = None
            if col.default is not None and col.default.is_scalar:
                default = (False, col.default.arg)
            elif col.default is not None and col.default.is_callable:
                default = (True, col.default.arg)
            plan.append((name, processor, default))
        raw = self.conn.connection.dbapi_connection
        with raw.cursor() as cur:
            with cur.copy(f'COPY {table.name} ({", ".join(cols)}) FROM STDIN') as copy:
                for row in itertools.chain([first], rows):
                    values = []
                    for name, processor, default in plan:
                        if name in row:
                            value = row[name]
                        elif default is None:
                            value = None
                        else:
                            value = default[1](None) if default[0] else default[1]
                        values.append(processor(value) if processor and value is not None else value)
                    copy.write_row(values)


@contextlib.contextmanager
def indexes_built_after(conn, tables):
    """On PostgreSQL, what a restore does: the tables' secondary indexes (not those of primary
    keys and unique constraints) are dropped, the rows loaded with foreign-key triggers off,
    then the indexes built again at once, each in one sort (a trigram index kept up row by row
    made a million orders take three minutes)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    found = conn.execute(text("""
        SELECT i.relname, pg_get_indexdef(x.indexrelid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY(:tables) AND t.relnamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
    """), {"tables": list(tables)}).all()
    for name, _definition in found:
        conn.execute(text(f'DROP INDEX "{name}"'))
    conn.execute(text("SET LOCAL session_replication_role = replica"))  # no FK checks per row
    yield
    conn.execute(text("SET LOCAL session_replication_role = origin"))
    conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for _name, definition in found:
        conn.execute(text(definition))


def database_size_mb(engine) -> float:
    """The database's size on disk in MB (PostgreSQL: pg_database_size; SQLite: the file)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            size = conn.scalar(text("SELECT pg_database_size(current_database())"))
        else:
            size = conn.scalar(text("SELECT page_count * page_size FROM pragma_page_count(), "
                                    "pragma_page_size()"))
    return round(size / 1e6, 1)


def fill(engine, *, orders=100_000, updates_per_order=10, issues=20_000, users=2_000, seed=8,
         log=print):
    """Add the generated data to a database that already has the schema and the demo data."""
    from secgo.i18n import fold
    from secgo.models import Cluster, Issue, IssueEvent, Order, Organization, StatusUpdate, User
    from secgo.models import cluster_coordinators_table as cc
    from werkzeug.security import generate_password_hash

    rnd = random.Random(seed)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    started = time.perf_counter()
    password = generate_password_hash("demo-password", method="pbkdf2:sha256:1000")
    folded = {p: fold(p) for p, _u in PRODUCTS}
    counts = {}
    with engine.begin() as conn:
        w = Writer(conn)
        clusters = [r[0] for r in conn.execute(select(Cluster.id))]
        # Organizations: 10 producers per cluster and 100 customers for every 100,000 orders
        # (a corridor ten times the size has ten times the producers and buyers, each with
        # about as many orders and people as before).
        per_100k = max(1, round(orders / 100_000))
        org_rows = [{"kind": "producer", "name": f"Bench producer {c}-{k}", "country": "KH",
                     "province": "Takeo", "cluster_id": c, "created_at": now}
                    for c in clusters for k in range(10 * per_100k)]
        org_rows += [{"kind": "customer", "name": f"Bench customer {k}", "country": "TH",
                      "province": "Bangkok", "cluster_id": None, "created_at": now}
                     for k in range(100 * per_100k)]
        w.write(Organization.__table__, org_rows)
        producers = [r[0] for r in conn.execute(select(Organization.id).where(Organization.kind == "producer"))]
        customers = [r[0] for r in conn.execute(select(Organization.id).where(Organization.kind == "customer"))]
        # Users: producers and customers in those organizations, a few coordinators.
        existing = conn.scalar(select(func.count()).select_from(User.__table__))
        n_coord = max(2, users // 100)
        user_rows = []
        for k in range(max(0, users - existing)):
            if k < n_coord:
                role, org = "coordinator", None
            elif k % 2:
                role, org = "producer", producers[k % len(producers)]
            else:
                role, org = "customer", customers[k % len(customers)]
            user_rows.append({"username": f"bench-{role}-{k}", "display_name": f"Bench {role} {k}",
                              "email": None, "phone": None, "password_hash": password, "role": role,
                              "organization_id": org, "locale": "en", "timezone": "Asia/Bangkok",
                              "active": True, "created_at": now})
        w.write(User.__table__, user_rows)
        coords = [r[0] for r in conn.execute(select(User.id).where(User.username.like("bench-coordinator-%")))]
        conn.execute(insert(cc), [{"cluster_id": clusters[(i * 3 + j) % len(clusters)], "user_id": u}
                                  for i, u in enumerate(coords) for j in range(3)])
        authors = {}
        for uid, org in conn.execute(select(User.id, User.organization_id).where(User.role == "producer")):
            authors.setdefault(org, uid)
        log(f"  organizations, users: {time.perf_counter() - started:.1f}s")

        # Orders, newest activity spread over three years.
        bulk = contextlib.ExitStack()
        bulk.enter_context(indexes_built_after(conn, ("orders", "status_updates", "issues", "issue_events")))
        base_id = (conn.scalar(select(func.max(Order.id))) or 0) + 1
        order_meta = []

        def crossing(order_id):
            return BORDERS[(order_id - base_id) % len(BORDERS)]

        codes = random.Random(seed + 1)  # (its own stream: the rest of the data stays as it was)

        def order_rows():
            for i in range(orders):
                producer = producers[rnd.randrange(len(producers))]
                customer = customers[rnd.randrange(len(customers))]
                product, unit = PRODUCTS[rnd.randrange(len(PRODUCTS))]
                created = now - timedelta(minutes=rnd.randrange(3 * 365 * 24 * 60))
                n_steps = rnd.randrange(1, len(STEPS) + 1)
                status = STEPS[n_steps - 1]
                ref = reference(i)
                order_meta.append((base_id + i, producer, created, n_steps, customer))
                yield {"id": base_id + i, "reference": ref, "producer_org_id": producer,
                       "customer_org_id": customer, "product": product, "quantity": rnd.randrange(1, 20000),
                       "unit": unit, "value": None, "currency": "USD", "origin": "Takeo",
                       "destination": "Bangkok", "border_crossing": crossing(base_id + i),
                       "due_date": date.today() + timedelta(days=rnd.randrange(-60, 60)),
                       "status": status, "notes": "",
                       "search_text": f"{ref.lower()} {folded[product]} bench producer {producer} bench customer {customer}",
                       "created_by_id": authors.get(producer), "client_id": None,
                       "handover_code": f"{codes.randrange(10 ** 6):06d}",  # as every order made now
                       "created_at": created,
                       # never in the future: a write now must bring its order to the top
                       "last_activity_at": min(created + timedelta(hours=updates_per_order * 12), now)}

        w.write(Order.__table__, order_rows())
        log(f"  {orders} orders: {time.perf_counter() - started:.1f}s")

        def update_rows():
            for oid, producer, created, n_steps, _customer in order_meta:
                author = authors.get(producer)
                for k in range(updates_per_order):
                    status = STEPS[k] if k < n_steps else "note"
                    at = created + timedelta(hours=12 * k)
                    yield {"order_id": oid, "status": status, "note": NOTES[(oid + k) % len(NOTES)],
                           "note_original": None, "latitude": None, "longitude": None,
                           "occurred_at": at, "recorded_at": at, "author_id": author,
                           "author_label": None, "client_id": None, "corrects_id": None,
                           "confirmed_by_id": None, "confirmed_by_label": None,
                           "confirmed_at": None if k >= n_steps - 1 else at + timedelta(hours=2),
                           "confirm_comment": None}

        w.write(StatusUpdate.__table__, update_rows())
        log(f"  {orders * updates_per_order} status updates: {time.perf_counter() - started:.1f}s")

        issue_orders = rnd.sample(order_meta, min(issues, len(order_meta)))
        base_issue = (conn.scalar(select(func.max(Issue.id))) or 0) + 1

        def issue_rows():
            for j, (oid, producer, created, _n, customer) in enumerate(issue_orders):
                state = ISSUE_STATES[j % len(ISSUE_STATES)]
                at = created + timedelta(hours=30)
                yield {"id": base_issue + j, "order_id": oid, "producer_org_id": producer,
                       "customer_org_id": customer, "border_crossing": crossing(oid),  # = the order's
                       "category": CATEGORIES[j % len(CATEGORIES)],
                       "severity": ("low", "medium", "high")[j % 3], "title": f"Bench issue {j}",
                       "description": "Received fewer bags than ordered.", "description_original": None,
                       "state": state, "raised_by_id": None, "raised_by_label": "Bench",
                       "raised_by_side": "customer", "assignee_id": None, "resolution_note": None,
                       "client_id": None, "created_at": at, "updated_at": at,
                       "first_response_at": None if state == "open" else at + timedelta(hours=5),
                       "acknowledged_at": None if state == "open" else at + timedelta(hours=5),
                       "resolved_at": at + timedelta(days=2) if state in ("resolved", "closed") else None,
                       "closed_at": at + timedelta(days=3) if state == "closed" else None}

        w.write(Issue.__table__, issue_rows())
        w.write(IssueEvent.__table__, ({"issue_id": base_issue + j, "from_state": None, "to_state": "open",
                                        "actor_id": None, "note": "", "client_id": None,
                                        "created_at": created + timedelta(hours=30)}
                                       for j, (_o, _p, created, _n, _c) in enumerate(issue_orders)))
        log(f"  {len(issue_orders)} issues: {time.perf_counter() - started:.1f}s")
        bulk.close()
        log(f"  indexes built: {time.perf_counter() - started:.1f}s")
        if conn.dialect.name == "postgresql":
            for table in ("orders", "status_updates", "issues", "issue_events", "users", "organizations"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    # Statistics, and on PostgreSQL the visibility map too (VACUUM, outside a transaction):
    # what autovacuum gives a database that has grown over years, so that index-only scans
    # do not read the table.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))
    counts = {**counts, **sizes(engine), "seconds": round(time.perf_counter() - started, 1)}
    log(f"  done: {counts}")
    return counts


def sizes(engine) -> dict:
    """Rows in the big tables, and the database's size on disk in MB."""
    counts = {}
    for table in ("users", "organizations", "orders", "status_updates", "issues"):
        with engine.connect() as conn:
            counts[table] = conn.scalar(text(f"SELECT count(*) FROM {table}"))
    counts["size_mb"] = database_size_mb(engine)
    return counts

