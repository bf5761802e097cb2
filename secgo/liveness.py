"""On PostgreSQL, a pooled connection is checked before each use without a round trip.

SQLAlchemy's `pool_pre_ping` checks a connection taken from the pool by sending a statement
and waiting for its answer: a round trip to the database at every request that reaches the
app, a tenth or more of a page's round trips, and work for the database as well. A
connection the server has closed (a restart, a failover, `pg_terminate_backend`, an idle
timeout) says so itself: the server sends its last message and closes the socket, which
then has something to read. A connection resting in the pool has nothing to read otherwise
(the app does not LISTEN), so whether its socket is readable is asked of the kernel instead
(a `poll` that does not wait); a readable one, or one psycopg knows is broken, is put aside
and a fresh one taken, as pool_pre_ping does (SQLAlchemy's documented way: a
DisconnectionError raised in the pool's "checkout" event). A server that vanished without a
word (its host cut off) is found by neither check until the network gives up; the request
then meets the error and is answered 503, as any error of the database is.
"""
import select

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url


def checks_itself(url: str) -> bool:
    """Whether connections of this database URL are checked so (PostgreSQL with psycopg)."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg"


def check_on_checkout(engine) -> None:
    """Check each connection this engine's pool hands out, without a round trip (see above)."""

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, _record, _proxy):
        if not alive(dbapi_connection):
            raise exc.DisconnectionError("the database closed this connection")


def alive(dbapi_connection) -> bool:
    """Whether a psycopg connection at rest is still open at both ends, as far as the kernel
    knows: psycopg has not seen it fail, and the server has sent nothing since its last answer
    (a closed socket reads as readable)."""
    from psycopg.pq import ConnStatus, TransactionStatus

    pgconn = dbapi_connection.pgconn
    if (dbapi_connection.closed or pgconn.status != ConnStatus.OK
            or pgconn.transaction_status not in (TransactionStatus.IDLE, TransactionStatus.INTRANS)):
        return False
    try:
        socket = pgconn.socket
    except Exception:  # psycopg.OperationalError: no socket any more
        return False
    poller = select.poll()
    poller.register(socket, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)
