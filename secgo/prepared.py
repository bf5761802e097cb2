"""On PostgreSQL, a statement is parsed and planned once per connection, not at every request;
and a request that only reads sends no BEGIN and no COMMIT.

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

A transaction that wrote and is rolled back (a refused write: a 409, a 422, a twin's unique
key) would cost the same: psycopg forgets its statements at any ROLLBACK, because a rolled-back
DDL statement may have dropped or remade what they name. A request's transaction runs no DDL
(only SELECT, INSERT, UPDATE, DELETE, WITH and savepoints); so such a transaction's ROLLBACK is
sent on the libpq connection under psycopg (`Connection.pgconn`, psycopg's documented way to
send a command itself), and psycopg, finding no transaction left, keeps its statements: they
are the server's still (PostgreSQL's prepared statements are not undone by a rollback).
Any other statement in the transaction (DDL, SET, ...) leaves its ROLLBACK to psycopg, as ever.

A page asked for with GET (or HEAD, OPTIONS) reads; what it writes besides (a read mark, a
sign-in's last use) goes through transactions of its own (secgo.readmarks, secgo.authn). At
PostgreSQL's READ COMMITTED every statement of a transaction reads its own snapshot, so a
page's reads see the same data in a transaction or without one; the transaction only cost
two round trips to the database, BEGIN and COMMIT, of the seven or so of a page made again.
So such a request's connection reads in autocommit (`_reading`), until a statement that is
not a plain SELECT (a write, SET, SAVEPOINT, or a SELECT that locks rows): from that one on,
its transaction is an ordinary one, begun before it and ended by the app's commit or
rollback as ever. The connection goes back to the pool as it came.

The engine's connections also describe a result (`Cursor.description`) only when something
reads the description (`_Description`): SQLAlchemy asks for it after every statement, and
psycopg made it anew each time, though SQLAlchemy reads it only the first time it runs a
statement.
"""
import re
from collections.abc import Sequence
from types import SimpleNamespace

from flask import has_request_context, request
from sqlalchemy import event

READING_METHODS = ("GET", "HEAD", "OPTIONS")
# A SELECT that locks rows holds the locks until its transaction ends: never in autocommit.
_LOCKS = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)
_AUTOCOMMIT = "secgo_reading"  # in the connection record's info: autocommit set by _reading
# What a request's transaction runs; anything else (DDL, SET, ...) is rolled back by psycopg.
_DATA_ONLY = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "SAVEPOINT", "RELEASE")


def _plain_select(statement: str) -> bool:
    return statement.lstrip()[:6].upper() == "SELECT" and not _LOCKS.search(statement)


class _Description(Sequence):
    """A result's description (psycopg's Column for each of its columns), made when first read.

    psycopg makes a Column per column at every reading of `Cursor.description`, and SQLAlchemy
    reads it after every statement to learn whether rows came back, then (for a statement it
    compiled before) describes the rows from what it kept of the first run, never reading
    it: some 200 Columns made for nothing on an order page made again (35 µs for a statement of
    49 columns). The result it describes is held, so a later statement on the cursor changes
    nothing; read, it is psycopg's own."""

    __slots__ = ("_result", "_columns")

    def __init__(self, result):
        self._result, self._columns = result, None

    def _made(self) -> list:
        if self._columns is None:
            from psycopg import Column

            result = self._result
            self._columns = [Column(result, index) for index in range(result.pgresult.nfields)]
            self._result = None
        return self._columns

    def __getitem__(self, index):
        return self._made()[index]

    def __len__(self) -> int:
        return len(self._made())


def _cursor_class():
    import psycopg
    from psycopg.pq import ExecStatus

    rows = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)

    class Cursor(psycopg.Cursor):
        """psycopg's cursor whose `description` is made when read (_Description)."""

        @property
        def description(self):
            result = self.pgresult
            if result and (result.nfields or result.status in rows):  # (as psycopg's own)
                return _Description(SimpleNamespace(pgresult=result, _encoding=self._encoding,
                                                    adapters=self.adapters))
            return None

    return Cursor


def keep_prepared_statements(engine) -> None:
    """End the read-only transactions of this engine (PostgreSQL, psycopg) with COMMIT, and
    read without one in a request that only reads; describe results only when asked."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return
    import psycopg
    from psycopg.pq import TransactionStatus

    cursor_class = _cursor_class()

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.cursor_factory = cursor_class

    @event.listens_for(engine, "begin")
    def _begin(conn):
        info = _info(conn)
        if info is not None:
            info["secgo_wrote"] = False
            info.pop("secgo_other", None)
            _reading(conn, info)

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, _cursor, statement, _parameters, _context, _executemany):
        if _plain_select(statement):
            return
        conn.info["secgo_wrote"] = True
        if (statement[:20].split(None, 1) or [""])[0].upper() not in _DATA_ONLY:
            conn.info["secgo_other"] = True
        if conn.info.get(_AUTOCOMMIT):  # from this statement on, a transaction as ever
            conn.info[_AUTOCOMMIT] = False
            conn.connection.dbapi_connection.autocommit = False

    @event.listens_for(engine, "rollback")
    def _rollback(conn):
        info = _info(conn)
        if info is None:  # a connection the database dropped: the rollback deals with it, as ever
            return
        read_only = info.get("secgo_wrote") is False
        data_only = not info.pop("secgo_other", False)
        info["secgo_wrote"] = None
        dbapi_connection = conn.connection.dbapi_connection
        status = dbapi_connection.info.transaction_status
        if read_only and status == TransactionStatus.INTRANS:
            try:
                dbapi_connection.commit()  # the rollback that follows finds nothing to end
            except psycopg.Error:  # it failed: the rollback that follows deals with it
                pass
        elif data_only and status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
            # psycopg's rollback that follows finds nothing to end, and keeps the statements;
            # when this one fails, that rollback deals with the connection, as ever.
            try:
                dbapi_connection.pgconn.exec_(b"ROLLBACK")
            except psycopg.Error:
                pass

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection, record):
        if record.info.pop(_AUTOCOMMIT, None) is None or dbapi_connection is None:
            return
        if not dbapi_connection.closed and dbapi_connection.autocommit:
            dbapi_connection.autocommit = False  # as every connection of the pool is


def _reading(conn, info: dict) -> None:
    """A transaction begun in a request that only reads: the connection reads in autocommit."""
    if not has_request_context() or request.method not in READING_METHODS:
        return
    from psycopg.pq import TransactionStatus

    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection.info.transaction_status == TransactionStatus.IDLE and not dbapi_connection.autocommit:
        dbapi_connection.autocommit = True
        info[_AUTOCOMMIT] = True


def _info(conn) -> dict | None:
    """The info of the DB-API connection under this SQLAlchemy connection; None when there
    is none that works (closed, or invalidated: the database dropped it)."""
    if conn.closed or conn.invalidated:
        return None
    proxied = conn.connection
    return proxied.info if proxied.is_valid and proxied.dbapi_connection is not None else None
