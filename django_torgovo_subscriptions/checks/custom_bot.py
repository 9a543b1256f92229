"""
System checks of the custom-bot webhook settings (ids subscriptions.E040-E049,
W040-W049, W070), run by ``checks.check_settings``.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from django_torgovo_subscriptions.conf import subscriptions_settings

RATE = re.compile(r"^\d+/\d*[smhd]?$")
EXECUTION_MODES = ("inline", "celery")
# Cache backends whose counts are not shared by every process, or not atomic.
UNSHARED_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "keeps counts per process",
    "django.core.cache.backends.dummy.DummyCache": "counts nothing",
    "django.core.cache.backends.filebased.FileBasedCache": "has no atomic increment",
    "django.core.cache.backends.db.DatabaseCache": "has no atomic increment",
}
# Cache backends on a network, and the OPTIONS keys that bound a call's wait there
# (in a Redis URL, its socket_timeout query parameter does too).
SOCKET_TIMEOUT_OPTIONS = {
    "django.core.cache.backends.redis.RedisCache": ("socket_timeout",),
    "django_redis.cache.RedisCache": ("SOCKET_TIMEOUT",),
    "django.core.cache.backends.memcached.PyMemcacheCache": ("timeout",),
}
POSITIVE_INTEGERS = (
    ("WEBHOOK_DB_LOCK_TIMEOUT_MS", True),
    ("WEBHOOK_DB_STATEMENT_TIMEOUT_MS", True),
    ("WEBHOOK_DEDUPE_SECONDS", False),
    ("WEBHOOK_MAX_AGE_SECONDS", True),
    ("WEBHOOK_MAX_BODY_BYTES", False),
    ("WEBHOOK_EVENT_RETENTION_DAYS", False),
)


def check_webhook_settings() -> list[CheckMessage]:
    raw = subscriptions_settings.raw
    return [
        *check_public_base_url(raw("PUBLIC_BASE_URL")),
        *check_execution(raw("WEBHOOK_EXECUTION"), raw("WEBHOOK_CELERY_QUEUE")),
        *check_rate_limits(raw("WEBHOOK_RATE_LIMIT_PER_WEBHOOK"), raw("WEBHOOK_RATE_LIMIT_PER_IP")),
        *check_ip_lists(raw("WEBHOOK_IP_ALLOWLIST"), raw("WEBHOOK_TRUSTED_PROXIES")),
        *check_numbers(),
    ]


def check_public_base_url(value: Any) -> list[CheckMessage]:
    hint = "The origin TradingView reaches this site at, such as 'https://torgovo.example'."
    if value is None:
        if settings.DEBUG:
            return []
        return [
            Warning(
                "PUBLIC_BASE_URL is not set: webhook URLs are built from each request's Host, "
                "which is wrong behind a proxy that rewrites it.",
                hint=hint,
                id="subscriptions.W040",
            )
        ]
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        return [
            Error(
                f"PUBLIC_BASE_URL must be an http(s) URL, not {value!r}.",
                hint=hint,
                id="subscriptions.E040",
            )
        ]
    return []


@dataclass(frozen=True)
class ExecutionSettings:
    """The names, ids and hint of one pair of execution-mode and Celery-queue settings."""

    mode: str = "WEBHOOK_EXECUTION"
    queue: str = "WEBHOOK_CELERY_QUEUE"
    invalid_mode: str = "subscriptions.E041"
    no_celery: str = "subscriptions.E042"
    invalid_queue: str = "subscriptions.E047"
    hint: str = "'inline' executes alerts in the request; 'celery' in a Celery worker."


def check_execution(
    mode: Any, queue: Any, names: ExecutionSettings = ExecutionSettings()
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if mode not in EXECUTION_MODES:
        errors.append(
            Error(
                f"{names.mode} must be one of {EXECUTION_MODES}, not {mode!r}.",
                hint=names.hint,
                id=names.invalid_mode,
            )
        )
    elif mode == "celery" and importlib.util.find_spec("celery") is None:
        errors.append(
            Error(
                f"{names.mode} is 'celery' but Celery is not installed.",
                hint='pip install "django-torgovo-subscriptions[celery]"',
                id=names.no_celery,
            )
        )
    if queue is not None and (not isinstance(queue, str) or not queue):
        errors.append(
            Error(
                f"{names.queue} must be a queue name or None, not {queue!r}.",
                id=names.invalid_queue,
            )
        )
    return errors


def check_rate_limits(per_webhook: Any, per_ip: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name, rate in (
        ("WEBHOOK_RATE_LIMIT_PER_WEBHOOK", per_webhook),
        ("WEBHOOK_RATE_LIMIT_PER_IP", per_ip),
    ):
        if rate is not None and not (
            isinstance(rate, str) and RATE.match(rate) and not rate.endswith("/0")
        ):
            errors.append(
                Error(
                    f"{name} must be a django-ratelimit rate such as '60/m' or None, not {rate!r}.",
                    hint="A count, a slash, and an optional number of s, m, h or d: "
                    "'30/m', '500/h', '10/5s'.",
                    id="subscriptions.E043",
                )
            )
    if per_webhook is None and per_ip is None:
        return errors
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    caches = getattr(settings, "CACHES", {})
    if alias not in caches:
        errors.append(
            Error(
                f"The webhook rate limits count in the cache {alias!r} (RATELIMIT_USE_CACHE), "
                "which is not in CACHES.",
                hint="Add it to CACHES, or point RATELIMIT_USE_CACHE at a cache that exists.",
                id="subscriptions.E044",
            )
        )
    elif not settings.DEBUG and caches[alias].get("BACKEND") in UNSHARED_CACHES:
        backend = caches[alias]["BACKEND"]
        errors.append(
            Warning(
                f"The webhook rate limits count in the cache {alias!r}, whose backend {backend} "
                f"{UNSHARED_CACHES[backend]}: the limits will not hold across processes.",
                hint="Use Redis (django.core.cache.backends.redis.RedisCache) or Memcached, and "
                "name it with RATELIMIT_USE_CACHE.",
                id="subscriptions.W041",
            )
        )
    elif not settings.DEBUG and not has_socket_timeout(caches[alias]):
        errors.append(
            Warning(
                f"The webhook rate limits count in the cache {alias!r}, which has no socket "
                "timeout: a cache server that accepts connections and never answers holds "
                "every alert until TradingView gives up (3 seconds).",
                hint="Set OPTIONS {'socket_timeout': 0.25, 'socket_connect_timeout': 0.25} "
                "(django-redis: SOCKET_TIMEOUT and SOCKET_CONNECT_TIMEOUT; PyMemcacheCache: "
                "timeout and connect_timeout). The limits fail open when the cache times out.",
                id="subscriptions.W070",
            )
        )
    return errors


def has_socket_timeout(cache: dict[str, Any]) -> bool:
    """Whether a network cache's calls have a socket timeout (other backends need none)."""
    keys = SOCKET_TIMEOUT_OPTIONS.get(cache.get("BACKEND", ""))
    if keys is None:
        return True
    options = cache.get("OPTIONS") or {}
    pool = options.get("CONNECTION_POOL_KWARGS") or {}
    if any(options.get(key) or pool.get(key.lower()) for key in keys):
        return True
    locations = cache.get("LOCATION") or []
    if isinstance(locations, str):
        locations = locations.split(",") if "," in locations else [locations]
    return bool(locations) and all(
        parse_qs(urlsplit(str(location)).query).get("socket_timeout") for location in locations
    )


def check_ip_lists(allowlist: Any, proxies: Any) -> list[CheckMessage]:
    from django_torgovo_subscriptions.services.custom_bot.client_ip import parse_network

    errors: list[CheckMessage] = []
    for name, value, nullable in (
        ("WEBHOOK_IP_ALLOWLIST", allowlist, True),
        ("WEBHOOK_TRUSTED_PROXIES", proxies, False),
    ):
        if value is None and nullable:
            continue
        problem = None
        if not isinstance(value, list | tuple):
            problem = "must be a list"
        else:
            for entry in value:
                try:
                    parse_network(entry)
                except (ValueError, TypeError, AttributeError):
                    problem = f"has an entry that is no IP address or network: {entry!r}"
                    break
        if problem:
            errors.append(
                Error(
                    f"{name} {problem}.",
                    hint='A list of addresses and CIDR networks, e.g. ["tradingview", '
                    '"203.0.113.0/24"]' + ("; or None for any address." if nullable else "."),
                    id="subscriptions.E045",
                )
            )
    return errors


def check_numbers() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name, nullable in POSITIVE_INTEGERS:
        value = subscriptions_settings.raw(name)
        if value is None and nullable:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(
                Error(
                    f"{name} must be a positive integer{' or None' if nullable else ''}, "
                    f"not {value!r}.",
                    id="subscriptions.E046",
                )
            )
    check_ticker = subscriptions_settings.raw("WEBHOOK_CHECK_TICKER")
    if not isinstance(check_ticker, bool):
        errors.append(
            Error(
                f"WEBHOOK_CHECK_TICKER must be True or False, not {check_ticker!r}.",
                id="subscriptions.E047",
            )
        )
    return errors
