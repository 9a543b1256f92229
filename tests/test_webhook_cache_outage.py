"""
The rate-limit cache when its server accepts connections and never answers (a
hung Redis): with a socket timeout configured, every alert still trades; the
first waits for one timeout (then the process skips the cache for a few
seconds, so the next alerts do not wait at all), and the skip is logged.
"""

import logging
import socket
import time

import pytest
from django.conf import settings
from django.test import override_settings

from tests.webhook_support import alert_body, post_alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent_server():
    """A TCP port whose connections are taken (the kernel's backlog) and never answered."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield server.getsockname()[1]


def test_a_cache_that_never_answers_costs_its_timeout_and_fails_open(
    client, secret, silent_server, caplog
):
    caches = {
        **settings.CACHES,
        "silent": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{silent_server}/0",
            "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        },
    }
    with override_settings(CACHES=caches, RATELIMIT_USE_CACHE="silent"):
        started = time.monotonic()
        first = post_alert(client, secret)
        between = time.monotonic()
        second = post_alert(client, secret, alert_body(secret, price="2"))
        ended = time.monotonic()
    assert first.json()["status"] == second.json()["status"] == "executed"
    # One timed-out call (redis-py's retries included), far below TradingView's 3 s...
    assert between - started < 1.0, between - started
    # ...and none for the next alert.
    assert ended - between < 0.2, ended - between
    skipped = [r for r in caplog.records if "rate limits not counted" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].levelno == logging.WARNING
