"""
System checks of the API throttle settings (ids subscriptions.E050-E059,
W050-W059), run by ``checks.check_settings``. That THROTTLE_RATES is a dict
at all is subscriptions.E014.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from django_torgovo_subscriptions.checks.custom_bot import UNSHARED_CACHES
from django_torgovo_subscriptions.conf import DEFAULTS, subscriptions_settings

# What DRF's SimpleRateThrottle.parse_rate reads: a count above 0, a slash, a period.
DRF_RATE = re.compile(r"^[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)$")
AREAS = tuple(DEFAULTS["THROTTLE_RATES"])


def check_throttle_settings() -> list[CheckMessage]:
    raw = subscriptions_settings.raw
    return [*check_throttle_rates(raw("THROTTLE_RATES")), *check_throttle_cache(raw)]


def check_throttle_rates(rates: dict[str, Any]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for area, rate in rates.items():
        if area not in AREAS:
            errors.append(
                Error(
                    f"THROTTLE_RATES has an unknown area {area!r}.",
                    hint=f"The areas are {', '.join(AREAS)}.",
                    id="subscriptions.E050",
                )
            )
        elif rate is not None and not (isinstance(rate, str) and DRF_RATE.match(rate)):
            errors.append(
                Error(
                    f"THROTTLE_RATES[{area!r}] must be a DRF rate such as '120/min' or None, "
                    f"not {rate!r}.",
                    hint="A count above 0, a slash, and s, m, h or d (or sec, min, hour, day).",
                    id="subscriptions.E051",
                )
            )
    return errors


def check_throttle_cache(raw: Any) -> list[CheckMessage]:
    if all(rate is None for rate in raw("THROTTLE_RATES").values()):
        return []
    configured = raw("THROTTLE_CACHE")
    if configured is not None and (not isinstance(configured, str) or not configured):
        return [
            Error(
                f"THROTTLE_CACHE must be a CACHES alias or None, not {configured!r}.",
                id="subscriptions.E052",
            )
        ]
    alias = configured or getattr(settings, "RATELIMIT_USE_CACHE", "default")
    named_by = "THROTTLE_CACHE" if configured else "RATELIMIT_USE_CACHE"
    caches = getattr(settings, "CACHES", {})
    if alias not in caches:
        return [
            Error(
                f"The API throttles count in the cache {alias!r} ({named_by}), "
                "which is not in CACHES.",
                hint="Add it to CACHES, or name a cache that exists in THROTTLE_CACHE.",
                id="subscriptions.E053",
            )
        ]
    backend = caches[alias].get("BACKEND")
    if not settings.DEBUG and backend in UNSHARED_CACHES:
        return [
            Warning(
                f"The API throttles count in the cache {alias!r}, whose backend {backend} "
                f"{UNSHARED_CACHES[backend]}: the rates will not hold across processes.",
                hint="Use Redis (django.core.cache.backends.redis.RedisCache) or Memcached, "
                "and name it with THROTTLE_CACHE.",
                id="subscriptions.W050",
            )
        ]
    return []
