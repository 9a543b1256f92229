"""
Real database faults for tests, instead of patching our own functions: writes
to a table that fail (a trigger), and a lock held by another connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, connections, transaction

TRIGGER = "torgovo_test_failing_insert"


@contextmanager
def inserts_fail(model, message: str) -> Iterator[None]:
    """
    Every INSERT into ``model``'s table fails with an ``IntegrityError``
    carrying ``message`` (a trigger, on SQLite or PostgreSQL), until exit.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    literal = "'" + message.replace("'", "''") + "'"
    if connection.vendor == "postgresql":
        create = [
            f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION {literal} USING ERRCODE = 'check_violation'; END $$",
            f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()",
        ]
        drop = [
            f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}",
            f"DROP FUNCTION IF EXISTS {TRIGGER}()",
        ]
    else:
        create = [
            f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON {table} "
            f"BEGIN SELECT RAISE(ABORT, {literal}); END"
        ]
        drop = [f"DROP TRIGGER IF EXISTS {TRIGGER}"]
    with connection.cursor() as cursor:
        for statement in create:
            cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for statement in drop:
                cursor.execute(statement)


@contextmanager
def lock_held(sql: str, seconds: float, timeout: float = 30) -> Iterator[None]:
    """
    Run ``sql`` (a statement that takes a lock) in a transaction of a second
    connection, which holds the lock for ``seconds`` from entry, then commits.
    Needs committed data (``django_db(transaction=True)``).
    """
    taken = threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
                taken.set()
                time.sleep(seconds)
        except Exception as exc:  # noqa: BLE001  (reported to the test below)
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert taken.wait(timeout), f"the lock was never taken: {errors!r}"
        yield
    finally:
        thread.join(timeout)
    assert not thread.is_alive() and not errors, errors
