"""
Helpers for the tests that run a real Celery worker (the ``worker`` fixture in
conftest.py): an app on a real broker (Redis and RabbitMQ on this machine, see
.ci/run) with a queue of the test's own, and its removal afterwards.
(No tests in this module.)
"""

from __future__ import annotations

import os

from celery import Celery

BROKERS = {
    "redis": os.environ.get("TEST_CELERY_REDIS_URL", "redis://127.0.0.1:6379/3"),
    "rabbitmq": os.environ.get("TEST_CELERY_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}


def make_app(broker: str, queue: str) -> Celery:
    import django_torgovo_subscriptions.tasks  # noqa: F401  (registers the shared tasks)

    app = Celery(f"torgovo-tests-{queue}", broker=broker, set_as_current=True)
    app.conf.update(
        task_default_queue=queue,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        worker_hijack_root_logger=False,
        broker_heartbeat=0,
    )
    return app


def remove_queue(app: Celery, queue: str, broker: str) -> None:
    """Leave nothing behind on the shared broker."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        channel.queue_purge(queue)
        channel.queue_delete(queue)
        if broker == "redis":  # kombu keeps the queue's bindings in keys of their own
            channel.client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
