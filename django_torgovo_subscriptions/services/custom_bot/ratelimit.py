"""
Rate limits of the webhook receiver, per webhook and per client IP.

Counting is django-ratelimit's (fixed windows in a cache). The cache is the
one django-ratelimit's ``RATELIMIT_USE_CACHE`` names (``"default"`` unless
set); it must be shared by every worker process, so Redis or Memcached in
production (system check ``subscriptions.W041``). The rates are
``WEBHOOK_RATE_LIMIT_PER_WEBHOOK`` and ``WEBHOOK_RATE_LIMIT_PER_IP``.

When the cache cannot be reached the limits fail open: a trader's alert is not
refused because the cache is down. The failure is logged, and for
``CACHE_DOWN_SECONDS`` after it this process skips the cache altogether, so a
cache that hangs until its socket timeout costs one timeout every few seconds,
not two per alert (system check ``subscriptions.W070`` wants that timeout set).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import AlertRateLimited

logger = logging.getLogger(__name__)

WEBHOOK_GROUP = "torgovo-subscriptions.webhook"
IP_GROUP = "torgovo-subscriptions.webhook-ip"


def _is_cache_failure(usage: dict[str, Any]) -> bool:
    # What get_usage() returns when the cache could not count (see its source).
    return usage["limit"] == 0 and usage["time_left"] == -1


CACHE_DOWN_SECONDS = 5.0
# The monotonic time until which a failed cache is skipped, by its alias and location.
_cache_down_until: dict[tuple[str, str], float] = {}


def _cache_identity() -> tuple[str, str]:
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    return alias, repr(settings.CACHES.get(alias, {}).get("LOCATION"))


def hit(request: Any, group: str, value: str, rate: str) -> dict[str, Any] | None:
    """Count one request for ``value`` in ``group``; the usage, or None if not counted."""
    cache = _cache_identity()
    if _cache_down_until.get(cache, 0.0) > time.monotonic():
        return None
    try:
        usage = get_usage(
            request,
            group=group,
            key=lambda _group, _request: value,
            rate=rate,
            method=ALL,
            increment=True,
        )
    except Exception:  # the cache backend is down: fail open
        _cache_down_until[cache] = time.monotonic() + CACHE_DOWN_SECONDS
        logger.warning(
            "Webhook rate limits not counted for %s s: the cache is unreachable.",
            CACHE_DOWN_SECONDS,
            exc_info=True,
        )
        return None
    if usage is not None and _is_cache_failure(usage):
        logger.warning("Webhook rate limit not counted: the cache failed to count.")
        return None
    return usage


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
WINDOW_WORDS = {1: "per second", 60: "per minute", 3600: "per hour", 86400: "per day"}


def per_window(rate: str) -> str:
    """ "60/m" -> "per minute", "10/5s" -> "per 5 seconds" (the rate's fixed window)."""
    window = rate.split("/", 1)[1]
    unit = window[-1] if window and window[-1] in PERIODS else "s"
    seconds = int(window.rstrip("smhd") or 1) * PERIODS[unit]
    return WINDOW_WORDS.get(seconds, f"per {seconds} seconds")


def check_rate_limits(request: Any, webhook_id: Any, client_ip: str | None) -> None:
    """Count the request against its webhook and its IP; raise ``AlertRateLimited`` over a limit."""
    limits = (
        (
            "webhook",
            WEBHOOK_GROUP,
            str(webhook_id),
            subscriptions_settings.WEBHOOK_RATE_LIMIT_PER_WEBHOOK,
        ),
        ("IP address", IP_GROUP, client_ip, subscriptions_settings.WEBHOOK_RATE_LIMIT_PER_IP),
    )
    for label, group, value, rate in limits:
        if not rate or not value:
            continue
        usage = hit(request, group, value, rate)
        if usage is not None and usage["should_limit"]:
            raise AlertRateLimited(
                f"More than {usage['limit']} alerts {per_window(rate)} from this {label}; "
                "this alert was not executed.",
                retry_after=max(int(usage["time_left"]), 1),
            )
