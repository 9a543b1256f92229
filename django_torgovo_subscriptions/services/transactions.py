"""Transaction helpers shared by the services."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)


def savepoint_if_in_transaction() -> Any:
    """
    A savepoint when the caller is inside a transaction, so that a refused
    write (an IntegrityError) does not spoil it; otherwise nothing. A single
    ``save()`` outside a transaction is atomic by itself (Django wraps a save
    in a transaction only when it writes several tables), and skipping the
    BEGIN/COMMIT saves two round trips on the webhook receiver's hot path.
    """
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


def _set_timeouts(values: dict[str, str], local: bool) -> dict[str, str]:
    """Set PostgreSQL settings in one round trip; returns their values before."""
    names = list(values)
    before = ", ".join(f"current_setting(%s) AS before_{i}" for i in range(len(names)))
    changes = ", ".join("set_config(%s, %s, %s)" for _ in names)
    columns = ", ".join(f"before_{i}" for i in range(len(names)))
    params: list[Any] = list(names)
    for name in names:
        params += [name, values[name], local]
    # MATERIALIZED: the old values are read before set_config runs.
    sql = f"WITH before AS MATERIALIZED (SELECT {before}) SELECT {columns}, {changes} FROM before"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return dict(zip(names, row[: len(names)], strict=True))


@contextlib.contextmanager
def postgres_timeouts(
    lock_timeout_ms: int | None, statement_timeout_ms: int | None
) -> Iterator[None]:
    """
    Run the block under PostgreSQL's ``lock_timeout`` and ``statement_timeout``
    (milliseconds; None leaves one as it is). Inside a transaction they are set
    LOCAL and end with it; outside one (the webhook receiver runs in autocommit)
    they are set for the session and put back on the way out, so the next request
    on a persistent connection runs as before. Elsewhere than PostgreSQL: nothing.
    A database that cannot be reached is left for the block to meet.
    """
    values = {
        name: f"{int(ms)}ms"
        for name, ms in (
            ("lock_timeout", lock_timeout_ms),
            ("statement_timeout", statement_timeout_ms),
        )
        if ms
    }
    if not values or connection.vendor != "postgresql":
        yield
        return
    local = connection.in_atomic_block
    previous = None
    try:
        previous = _set_timeouts(values, local)
    except DatabaseError:
        logger.warning("Could not set the database timeouts.", exc_info=True)
    try:
        yield
    finally:
        if previous and not local:
            try:
                _set_timeouts(previous, False)
            except DatabaseError:
                # No later request may inherit the short timeouts: drop the connection.
                logger.warning("Could not reset the database timeouts.", exc_info=True)
                connection.close()
