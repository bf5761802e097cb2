"""On PostgreSQL, a request that only read keeps its connection's prepared statements, and
a transaction that wrote is rolled back as ever (secgo/prepared.py)."""
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DataError

from secgo.extensions import db
from secgo.models import Organization, Order
from tests.test_orders import make_order


@pytest.fixture
def postgresql(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("psycopg's prepared statements")


def _prepared(app) -> list[str]:
    """The statements prepared on the app's connection (the test client's requests use one)."""
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            statements = [row[0] for row in raw.driver_connection.execute(
                "SELECT statement FROM pg_prepared_statements")]
            raw.driver_connection.commit()  # (the pool's rollback would make psycopg forget them)
            return statements
        finally:
            raw.close()


def test_pages_seen_again_and_again_keep_their_statements_prepared_on_postgresql(
        app, world, client, auth, postgresql):
    ref = make_order(app, world)
    app.config["PAGE_CACHE"] = False  # every answer made by Flask, ended by its transaction
    auth.login("producer")
    for _ in range(8):  # psycopg prepares a statement at its sixth run on a connection
        assert client.get(f"/orders/{ref}").status_code == 200
    prepared = _prepared(app)
    # Forgotten at each ROLLBACK before: none survived a request.
    assert any("FROM orders" in statement for statement in prepared), prepared


def test_a_transaction_that_wrote_is_still_rolled_back(app, world, postgresql):
    with app.app_context():
        name = db.session.get(Organization, world.orgs["buyer"]).name
        for _ in range(8):  # prepared, as a page's reads would be
            db.session.scalar(select(func.count()).select_from(Order))
        db.session.get(Organization, world.orgs["buyer"]).name = "Renamed by a failed request"
        db.session.flush()
        db.session.execute(update(Organization).where(Organization.id == world.orgs["farm"])
                           .values(name="Renamed by a failed request too"))
        db.session.remove()  # as at the end of a request that failed
        names = set(db.session.scalars(select(Organization.name)))
        assert name in names and not any(n.startswith("Renamed") for n in names)


def test_a_read_that_failed_is_rolled_back_and_the_next_request_reads_on(app, world, postgresql):
    with app.app_context():
        with pytest.raises(DataError):  # division by zero
            db.session.execute(text("SELECT 1 / 0"))
        db.session.remove()
        assert db.session.scalar(select(func.count()).select_from(Organization)) == len(world.orgs)


def test_a_page_made_before_the_database_dropped_its_connection_is_still_answered(
        app, world, client, auth, postgresql):
    """A restart between the page's last read and the end of its request: the transaction
    is gone with the connection, the answer is whole; it was a 500 from the teardown."""
    from sqlalchemy import create_engine

    make_order(app, world, product="Silk scarf")
    app.config["PAGE_CACHE"] = False
    auth.login("producer")
    with app.app_context():
        admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")

    def restart_now(response):
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        with admin.connect() as conn:  # waits until the server process is gone (PostgreSQL 14+)
            conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        return response

    app.after_request_funcs.setdefault(None, []).append(restart_now)
    try:
        response = client.get("/orders")
    finally:
        app.after_request_funcs[None].remove(restart_now)
        admin.dispose()
    assert response.status_code == 200 and "Silk scarf" in response.get_data(as_text=True)
    assert client.get("/orders").status_code == 200  # and the next request reads on


# --- a pooled connection is checked before use without a round trip (secgo/liveness.py) -----

def _backend(app) -> int:
    """The server process of the connection the pool hands out next (handed back after)."""
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def test_a_pooled_connection_the_database_closed_is_replaced_before_a_request_uses_it(
        app, world, client, auth, postgresql):
    from sqlalchemy import create_engine

    make_order(app, world, product="Silk scarf")
    app.config["PAGE_CACHE"] = False
    auth.login("producer")
    pid = _backend(app)
    assert _backend(app) == pid  # a live connection is kept and used again
    with app.app_context():
        admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            # waits until the server process is gone (PostgreSQL 14+)
            conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    finally:
        admin.dispose()
    response = client.get("/orders")  # not the 503 of a dropped connection: another one
    assert response.status_code == 200 and "Silk scarf" in response.get_data(as_text=True)
    assert _backend(app) != pid


def test_checking_a_pooled_connection_sends_nothing_to_the_database(app, world, postgresql):
    import psycopg

    _backend(app)  # one connection in the pool
    waits = []
    original = psycopg.Connection.wait

    def counted(self, *args, **kwargs):  # every exchange with the server goes through it
        waits.append(args)
        return original(self, *args, **kwargs)

    psycopg.Connection.wait = counted
    try:
        with app.app_context():
            db.engine.connect().close()  # taken from the pool, checked, handed back
    finally:
        psycopg.Connection.wait = original
    # pool_pre_ping sent a statement and waited for its answer here; at most the pool's reset
    # of a connection at rest (nothing to roll back: no exchange) remains.
    assert len(waits) <= 1, waits


# --- a request that only reads sends no BEGIN and no COMMIT (secgo/prepared.py) --------------

def test_a_page_that_only_reads_runs_without_a_transaction_and_a_write_in_it_is_still_all_or_nothing(
        app, world, client, auth, postgresql):
    from psycopg.pq import TransactionStatus

    seen = {}

    @app.get("/_test/read-then-write")
    def _read_then_write():
        dbapi = db.session.connection().connection.dbapi_connection
        db.session.scalar(select(func.count()).select_from(Order))
        seen["reading"] = dbapi.info.transaction_status  # no BEGIN was sent for the read
        db.session.execute(update(Organization).where(Organization.id == world.orgs["farm"])
                           .values(name="Written by half a request"))
        seen["writing"] = dbapi.info.transaction_status
        raise RuntimeError("the request fails after its first write")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/_test/read-then-write").status_code == 500
    assert seen == {"reading": TransactionStatus.IDLE, "writing": TransactionStatus.INTRANS}
    with app.app_context():
        names = set(db.session.scalars(select(Organization.name)))
        assert "Written by half a request" not in names  # rolled back with the request
        raw = db.engine.raw_connection()  # and the connection went back to the pool as it came
        try:
            assert raw.driver_connection.autocommit is False
        finally:
            raw.close()


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False}], indirect=True)
def test_a_page_made_again_sends_no_begin_or_commit_and_a_post_still_commits_its_writes(
        app, world, client, auth, postgresql):
    import psycopg

    ref = make_order(app, world, product="Silk scarf")
    app.config["PAGE_CACHE"] = False
    auth.login("producer")
    client.get(f"/orders/{ref}")
    sent = []
    original = psycopg.Connection._exec_command

    def counted(self, command, *args, **kwargs):  # how psycopg sends BEGIN and COMMIT
        sent.append(str(command))
        return original(self, command, *args, **kwargs)

    psycopg.Connection._exec_command = counted
    try:
        assert client.get(f"/orders/{ref}").status_code == 200
        reading = list(sent)
        sent.clear()
        from tests.test_orders import post_update

        assert post_update(client, ref, "note", "Packed and labelled").status_code == 303
    finally:
        psycopg.Connection._exec_command = original
    assert not [c for c in reading if "BEGIN" in str(c) or "COMMIT" in str(c)], reading
    assert any("BEGIN" in str(c) for c in sent) and any("COMMIT" in str(c) for c in sent), sent
    assert "Packed and labelled" in client.get(f"/orders/{ref}").get_data(as_text=True)


# --- a refused write keeps the connection's prepared statements (secgo/prepared.py) ----------

def _refuse_after(app, statement, path):
    """A route that runs `statement` in its transaction, then refuses (409), as a write the
    rules turn down after its first flush does (idempotency key stored, then a conflict)."""
    from flask import abort

    def view():
        db.session.execute(statement)
        abort(409)

    app.add_url_rule(path, path.strip("/").replace("/", "_"), view, methods=["POST"])


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False}], indirect=True)
def test_a_refused_write_is_undone_whole_and_the_connection_keeps_its_prepared_statements(
        app, world, client, auth, postgresql):
    ref = make_order(app, world, product="Silk scarf")
    _refuse_after(app, update(Organization).where(Organization.id == world.orgs["farm"])
                  .values(name="Written by a refused request"), "/_test/refused-write")
    app.config["PAGE_CACHE"] = False
    auth.login("producer")
    for _ in range(8):
        assert client.get(f"/orders/{ref}").status_code == 200
    before = _prepared(app)
    assert any("FROM orders" in statement for statement in before), before

    assert client.post("/_test/refused-write").status_code == 409
    with app.app_context():
        assert "Written by a refused request" not in set(db.session.scalars(select(Organization.name)))
    # Forgotten at each refused write before: the next pages were parsed and planned anew.
    assert set(before) <= set(_prepared(app))
    assert client.get(f"/orders/{ref}").status_code == 200


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False}], indirect=True)
def test_a_refused_request_that_changed_the_schema_is_undone_by_psycopg_forgetting_its_statements(
        app, world, client, auth, postgresql):
    ref = make_order(app, world, product="Silk scarf")
    _refuse_after(app, text("CREATE TABLE refused_request_table (id integer)"), "/_test/refused-ddl")
    app.config["PAGE_CACHE"] = False
    auth.login("producer")
    for _ in range(8):
        client.get(f"/orders/{ref}")
    assert _prepared(app)

    assert client.post("/_test/refused-ddl").status_code == 409
    with app.app_context():
        assert db.session.scalar(text("SELECT to_regclass('refused_request_table')")) is None
    assert _prepared(app) == []  # a rolled-back DDL may have remade what they named
    assert client.get(f"/orders/{ref}").status_code == 200


def test_a_result_is_described_as_psycopg_describes_it_when_asked_and_pages_read_right(
        app, world, client, auth, postgresql):
    """The app's cursors make a result's description only when something reads it; read, it is
    psycopg's own (names, types, sizes), even after the cursor ran another statement."""
    import psycopg

    ref = make_order(app, world)
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()
            assert type(cursor) is not psycopg.Cursor and isinstance(cursor, psycopg.Cursor)
            cursor.execute("SELECT id, reference, due_date, value FROM orders WHERE reference = %s", (ref,))
            lazy, own = cursor.description, psycopg.Cursor.description.fget(cursor)
            cursor.execute("SELECT 1 AS one")  # the first description holds its own result
            assert [(c.name, c.type_code, c.internal_size, c.precision, c.scale) for c in lazy] == \
                   [(c.name, c.type_code, c.internal_size, c.precision, c.scale) for c in own]
            assert [c.name for c in lazy] == ["id", "reference", "due_date", "value"]
            assert [c.name for c in cursor.description] == ["one"]
            cursor.execute("UPDATE orders SET unit = unit WHERE reference = %s", (ref,))
            assert cursor.description is None
            raw.driver_connection.rollback()
        finally:
            raw.close()
    auth.login("producer")
    assert ref in client.get("/orders").get_data(as_text=True)
    assert ref in client.get(f"/orders/{ref}").get_data(as_text=True)
