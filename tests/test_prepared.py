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
            return [row[0] for row in raw.driver_connection.execute(
                "SELECT statement FROM pg_prepared_statements")]
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
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return response

    app.after_request_funcs.setdefault(None, []).append(restart_now)
    try:
        response = client.get("/orders")
    finally:
        app.after_request_funcs[None].remove(restart_now)
        admin.dispose()
    assert response.status_code == 200 and "Silk scarf" in response.get_data(as_text=True)
    assert client.get("/orders").status_code == 200  # and the next request reads on
