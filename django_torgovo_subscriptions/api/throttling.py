"""
Per-user request rates of the package's API, one rate per area.

A package API view names its area in ``subscriptions_throttle_scope``
("subscriptions", "custom_bot", "managed_bot" or "payments"). An
authenticated user's requests to the views of one area are counted against
``THROTTLE_RATES[area]`` (a DRF rate such as "120/min"; None: not throttled)
in the cache ``THROTTLE_CACHE`` (None: django-ratelimit's ``RATELIMIT_USE_CACHE``,
the cache the TradingView receiver's limits count in), which every process
must share. Past the rate the answer is ``429 throttled`` in the package's
error shape, with ``Retry-After``: the whole seconds until the next request
of that area is accepted.

Not counted here: anonymous requests (the host's own DRF throttles, which
still apply to the package's views, may count them by address), and views
without an area, the TradingView receiver, the payment webhooks and the dummy
checkout page, which are called by servers and have limits of their own.

The attribute is not DRF's ``throttle_scope``, so a host that lists DRF's
``ScopedRateThrottle`` in ``DEFAULT_THROTTLE_CLASSES`` needs no rates for the
package's areas in its ``DEFAULT_THROTTLE_RATES``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from rest_framework.throttling import ScopedRateThrottle

from django_torgovo_subscriptions.conf import subscriptions_settings


def throttle_cache_alias() -> str:
    """The CACHES alias the API's throttles count in."""
    return subscriptions_settings.THROTTLE_CACHE or getattr(
        settings, "RATELIMIT_USE_CACHE", "default"
    )


class SubscriptionsRateThrottle(ScopedRateThrottle):
    """DRF's ScopedRateThrottle on the package's settings, per authenticated user."""

    scope_attr = "subscriptions_throttle_scope"
    cache_format = "torgovo_subscriptions_throttle_%(scope)s_%(ident)s"

    @property
    def THROTTLE_RATES(self) -> dict[str, str | None]:  # DRF's attribute name
        return subscriptions_settings.THROTTLE_RATES

    @property
    def cache(self) -> BaseCache:
        return caches[throttle_cache_alias()]

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}

    def wait(self) -> float:
        """
        Seconds until the next request is accepted: until enough of the
        requests in the window have aged out of it.

        DRF's own ``wait`` spreads the remaining requests over the window and
        gives None when the rate was lowered below the requests already
        counted; a client told to retry needs the exact time, always.
        """
        # The history is newest first and holds only requests inside the
        # window, so this is above 0 (Retry-After is at least 1).
        blocking = self.history[self.num_requests - 1]
        return blocking + self.duration - self.now
