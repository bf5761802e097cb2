"""On PostgreSQL, a statement is parsed and planned once per connection, not at every request.

psycopg prepares a statement on the server once it has run a few times on a connection
(`prepare_threshold`), and then only binds and runs it. But it forgets every prepared
statement of the connection at each ROLLBACK (and deallocates them on the server), and a
ROLLBACK ends every request that only read: SQLAlchemy's session closes its transaction so
at the end of the request. So each request parsed and planned every statement anew, which
took longer than running them.

A transaction that wrote nothing ends the same whether committed or rolled back; so such a
transaction is committed instead (psycopg keeps its statements over a COMMIT), and every
other one is rolled back as before. "Wrote nothing": every statement it ran was a SELECT
(one with FOR UPDATE only locks rows: both ends release the locks); anything else (INSERT,
UPDATE, DELETE, WITH, SET, ...) counts as a write, and a transaction in error is always
rolled back. The ORM is not told: for it, and for its events, it was a rollback.
"""
from sqlalchemy import event


def keep_prepared_statements(engine) -> None:
    """End the read-only transactions of this engine (PostgreSQL, psycopg) with COMMIT."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return
    import psycopg
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "begin")
    def _begin(conn):
        info = _info(conn)
        if info is not None:
            info["secgo_wrote"] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip()[:6].upper() != "SELECT":
            conn.info["secgo_wrote"] = True

    @event.listens_for(engine, "rollback")
    def _rollback(conn):
        info = _info(conn)
        if info is None:  # a connection the database dropped: the rollback deals with it, as ever
            return
        read_only = info.get("secgo_wrote") is False
        info["secgo_wrote"] = None
        dbapi_connection = conn.connection.dbapi_connection
        if read_only and dbapi_connection.info.transaction_status == TransactionStatus.INTRANS:
            try:
                dbapi_connection.commit()  # the rollback that follows finds nothing to end
            except psycopg.Error:  # it failed: the rollback that follows deals with it
                pass


def _info(conn) -> dict | None:
    """The info of the DB-API connection under this SQLAlchemy connection; None when there
    is none that works (closed, or invalidated: the database dropped it)."""
    if conn.closed or conn.invalidated:
        return None
    proxied = conn.connection
    return proxied.info if proxied.is_valid and proxied.dbapi_connection is not None else None
