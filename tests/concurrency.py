"""
Start work in several threads at once, each with its own database connection;
and, on PostgreSQL, hold locks from a connection of the test's own, outside
Django's, as another process would.
"""

import contextlib
import threading

from django.db import connection, connections


def run_concurrently(count, func, *, return_exceptions=False, timeout=60):
    """
    Run ``func(index)`` in ``count`` threads released together by a barrier and
    return the results in index order. An exception in a thread fails the
    caller, unless ``return_exceptions`` puts it in the results instead.
    """
    barrier = threading.Barrier(count)
    results = [None] * count
    errors = []

    def worker(index):
        try:
            barrier.wait()
            results[index] = func(index)
        except Exception as exc:  # noqa: BLE001  (any failure is the thread's result)
            results[index] = exc
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    if errors and not return_exceptions:
        raise AssertionError(f"{len(errors)} of {count} threads failed: {errors!r}")
    return results


@contextlib.contextmanager
def other_connection():
    """A connection to the test database of its own, outside Django's (PostgreSQL)."""
    import psycopg  # installed where the tests run on PostgreSQL

    settings = connection.settings_dict
    params = {
        "dbname": settings["NAME"],
        "host": settings["HOST"],
        "port": settings["PORT"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
    }
    with psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v}) as other:
        yield other


@contextlib.contextmanager
def table_locked(model):
    """``model``'s table locked by another connection until the block ends."""
    with other_connection() as other, other.transaction():
        other.execute(f'LOCK TABLE "{model._meta.db_table}" IN ACCESS EXCLUSIVE MODE')
        yield


@contextlib.contextmanager
def table_locked_for(model, seconds):
    """``model``'s table locked by another connection for ``seconds`` from the block's
    start (then released, whatever the block is waiting for); the block ends after."""
    locked = threading.Event()

    def hold():
        with table_locked(model), other_connection() as clock:
            locked.set()
            clock.execute("SELECT pg_sleep(%s)", [seconds])

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10), "the lock was not taken"
    try:
        yield
    finally:
        holder.join(seconds + 10)
