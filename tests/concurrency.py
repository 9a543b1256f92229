"""Start work in several threads at once, each with its own database connection."""

import threading

from django.db import connections


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
