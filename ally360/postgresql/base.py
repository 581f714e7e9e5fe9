"""Django's PostgreSQL backend (psycopg 3), with one change: the health check.

With `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` before each request's first statement, so
that a connection the server closed while it sat idle (PostgreSQL restarted, the backend
terminated) is replaced instead of failing that request: one round trip on every request.
"""

import select

from django.db.backends.postgresql import base
from psycopg import Error, pq

_MOST_READS = 4
_USABLE = (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS)


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        """Whether the idle connection is still open, without a round trip.

        Between requests the server has nothing to say to an idle connection: anything to read
        is it closing the connection (the FATAL message of a terminated backend, then the end
        of the stream), so the check only looks, and reads what is there to learn the state. A
        server that vanished without a word (a network cut) is found by the request's first
        statement instead, which answers an error like any failure there.
        """
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        try:
            for _read in range(_MOST_READS):  # the message, then the end of the stream
                if not _readable(pgconn.socket):
                    break
                pgconn.consume_input()
            else:
                return False  # still more to read: not an idle connection
        except (OSError, Error):
            return False
        # As `SELECT 1` would: usable idle or in a transaction, not in a failed one.
        return pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status in _USABLE


def _readable(socket: int) -> bool:
    """Whether the socket has something to read, without waiting."""
    if hasattr(select, "poll"):
        poll = select.poll()
        poll.register(socket, select.POLLIN)
        return bool(poll.poll(0))
    return bool(select.select([socket], [], [], 0)[0])  # Windows has no poll()
