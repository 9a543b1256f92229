"""Transaction helpers shared by the services."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db import connection, transaction


def savepoint_if_in_transaction() -> Any:
    """
    A savepoint when the caller is inside a transaction, so that a refused
    write (an IntegrityError) does not spoil it; otherwise nothing. A single
    ``save()`` outside a transaction is atomic by itself (Django wraps a save
    in a transaction only when it writes several tables), and skipping the
    BEGIN/COMMIT saves two round trips on the webhook receiver's hot path.
    """
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
