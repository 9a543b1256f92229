"""
Rate limits of the webhook receiver: per webhook, and refusals per client IP.

- ``WEBHOOK_RATE_LIMIT_PER_WEBHOOK`` counts every request to one webhook URL,
  keyed by the hash of the URL's secret (known before the webhook is looked
  up). Over it: ``rate_limited`` on that webhook.
- ``WEBHOOK_RATE_LIMIT_PER_IP`` counts only *refused* requests (a wrong or
  unknown secret, a disallowed address, a bad body...) per client address. It
  is checked before the webhook is looked up and before anything is written:
  an address over it is answered ``rate_limited`` at once, for every request
  until the window ends, and those requests are only counted (one
  ``WebhookRefusalCount`` row per address and minute, services.custom_bot.receiver).
  Valid alerts are never counted per address, and addresses the receiver
  trusts as TradingView's (``client_ip.never_limited``) are never limited per
  address: TradingView sends every user's alerts from four of them.

Windows are fixed and aligned to the clock (a ``"60/m"`` window starts at each
whole minute). Counters live in the cache django-ratelimit's
``RATELIMIT_USE_CACHE`` names (``"default"`` unless set), which every worker
process must share: Redis or Memcached in production (system check
``subscriptions.W041``).

On Redis (Django's ``RedisCache`` or django-redis) a request costs one round
trip before the lookup: a pipeline that creates and increments the webhook's
counter and reads the address's refusals. A refused request adds one more, to
count it. Any other cache is used through Django's cache API, a few calls each.

When the cache cannot be reached the limits fail open: a trader's alert is not
refused because the cache is down. The failure is logged, and for
``CACHE_DOWN_SECONDS`` after it this process skips the cache altogether, so a
cache that hangs until its socket timeout costs one timeout every few seconds,
not two per alert (system check ``subscriptions.W070`` wants that timeout set).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import AlertRateLimited
from django_torgovo_subscriptions.services.custom_bot import client_ip as client_ips

logger = logging.getLogger(__name__)

WEBHOOK_GROUP = "torgovo-subscriptions.webhook"
IP_GROUP = "torgovo-subscriptions.webhook-ip-refused"

CACHE_DOWN_SECONDS = 5.0
# The monotonic time until which a failed cache is skipped, by its alias and location.
_cache_down_until: dict[tuple[str, str], float] = {}

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
WINDOW_WORDS = {1: "per second", 60: "per minute", 3600: "per hour", 86400: "per day"}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "60/m" -> (60, 60), "10/5s" -> (10, 5): the count and the window in seconds."""
    count, window = rate.split("/", 1)
    unit = window[-1] if window and window[-1] in PERIODS else "s"
    return int(count), int(window.rstrip("smhd") or 1) * PERIODS[unit]


def per_window(rate: str) -> str:
    """ "60/m" -> "per minute", "10/5s" -> "per 5 seconds" (the rate's fixed window)."""
    seconds = parse_rate(rate)[1]
    return WINDOW_WORDS.get(seconds, f"per {seconds} seconds")


@dataclass(frozen=True)
class Counter:
    """One fixed-window counter: its cache key, its limit and when its window ends."""

    key: str
    limit: int
    period: int
    ends: int

    @classmethod
    def of(cls, group: str, value: str, rate: str, now: float) -> Counter:
        limit, period = parse_rate(rate)
        start = int(now) - int(now) % period
        return cls(f"{group}:{value}:{start}", limit, period, start + period)

    def retry_after(self, now: float) -> int:
        return max(int(self.ends - now), 1)


@dataclass
class Usage:
    """What the counters said about one request (None: not counted)."""

    now: float
    webhook: Counter | None = None
    webhook_hits: int | None = None
    address: Counter | None = None
    address_refusals: int | None = None

    def address_cut_off(self) -> AlertRateLimited | None:
        """The refusal for an address over its refusals limit, or None."""
        if self.address is None or self.address_refusals is None:
            return None
        if self.address_refusals < self.address.limit:
            return None
        rate = subscriptions_settings.WEBHOOK_RATE_LIMIT_PER_IP
        return AlertRateLimited(
            f"More than {self.address.limit} refused requests {per_window(rate)} from this IP "
            "address; its requests are refused until the window ends.",
            retry_after=self.address.retry_after(self.now),
        )

    def check_webhook(self) -> None:
        """Raise ``AlertRateLimited`` when the webhook is over its limit."""
        if self.webhook is None or self.webhook_hits is None:
            return
        if self.webhook_hits > self.webhook.limit:
            rate = subscriptions_settings.WEBHOOK_RATE_LIMIT_PER_WEBHOOK
            raise AlertRateLimited(
                f"More than {self.webhook.limit} alerts {per_window(rate)} from this webhook; "
                "this alert was not executed.",
                retry_after=self.webhook.retry_after(self.now),
            )


def rate_limit_alias() -> str:
    return getattr(settings, "RATELIMIT_USE_CACHE", "default")


def rate_limit_cache() -> Any:
    return caches[rate_limit_alias()]


def _cache_identity() -> tuple[str, str]:
    alias = rate_limit_alias()
    return alias, repr(settings.CACHES.get(alias, {}).get("LOCATION"))


def cache_skipped() -> bool:
    """Whether this process skips the cache: it failed less than CACHE_DOWN_SECONDS ago."""
    return _cache_down_until.get(_cache_identity(), 0.0) > time.monotonic()


CACHE_DOWN_MESSAGE = "Webhook rate limits not counted for %s s: the cache is unreachable."


def skip_failed_cache() -> None:
    """Fail open: skip the cache for CACHE_DOWN_SECONDS (the caller logs the failure once)."""
    _cache_down_until[_cache_identity()] = time.monotonic() + CACHE_DOWN_SECONDS


def redis_client(cache: Any) -> Any:
    """The redis-py client behind Django's RedisCache or django-redis; None for others."""
    from django.core.cache.backends.redis import RedisCache

    if isinstance(cache, RedisCache):
        return cache._cache.get_client(None, write=True)
    client = getattr(cache, "client", None)  # django-redis
    if client is not None and hasattr(client, "get_client"):
        return client.get_client(write=True)
    return None


def address_counter(address: str | None, now: float) -> Counter | None:
    rate = subscriptions_settings.WEBHOOK_RATE_LIMIT_PER_IP
    if not rate or client_ips.never_limited(address):
        return None
    return Counter.of(IP_GROUP, address or "unknown", rate, now)


def count_request(address: str | None, webhook_key: str | None) -> Usage:
    """Before the lookup: count a request to ``webhook_key`` and read the address's
    refusals, in one round trip on Redis."""
    usage = Usage(now=time.time())
    rate = subscriptions_settings.WEBHOOK_RATE_LIMIT_PER_WEBHOOK
    if rate and webhook_key:
        usage.webhook = Counter.of(WEBHOOK_GROUP, webhook_key, rate, usage.now)
    usage.address = address_counter(address, usage.now)
    if (usage.webhook is None and usage.address is None) or cache_skipped():
        return usage
    try:
        cache = rate_limit_cache()
        client = redis_client(cache)
        if client is not None:
            pipe = client.pipeline(transaction=False)
            if usage.webhook is not None:
                key = cache.make_key(usage.webhook.key)
                pipe.set(key, 0, ex=usage.webhook.period + 1, nx=True).incr(key)
            if usage.address is not None:
                pipe.get(cache.make_key(usage.address.key))
            results = pipe.execute()
            if usage.webhook is not None:
                usage.webhook_hits = int(results[1])
            if usage.address is not None:
                usage.address_refusals = int(results[-1] or 0)
        else:
            if usage.webhook is not None:
                cache.add(usage.webhook.key, 0, usage.webhook.period + 1)
                usage.webhook_hits = cache.incr(usage.webhook.key)
            if usage.address is not None:
                usage.address_refusals = int(cache.get(usage.address.key) or 0)
    except Exception:  # the cache backend is down (or hangs until its socket timeout)
        skip_failed_cache()
        logger.warning(CACHE_DOWN_MESSAGE, CACHE_DOWN_SECONDS, exc_info=True)
        usage.webhook_hits = usage.address_refusals = None
    return usage


def count_refusal(usage: Usage) -> None:
    """Count one refused request against its address (no-op for a never-limited one,
    and when the cache already failed this request: one wait for it is enough)."""
    counter = usage.address
    if counter is None or usage.address_refusals is None:
        return
    try:
        cache = rate_limit_cache()
        client = redis_client(cache)
        if client is not None:
            key = cache.make_key(counter.key)
            client.pipeline(transaction=False).set(key, 0, ex=counter.period + 1, nx=True).incr(
                key
            ).execute()
        else:
            cache.add(counter.key, 0, counter.period + 1)
            cache.incr(counter.key)
    except Exception:
        skip_failed_cache()
        logger.warning(CACHE_DOWN_MESSAGE, CACHE_DOWN_SECONDS, exc_info=True)
