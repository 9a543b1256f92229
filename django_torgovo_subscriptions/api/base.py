"""What every package API view shares: error shape, pagination, auth and throttle defaults."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.pagination import PageNumberPagination

from django_torgovo_subscriptions.api.exceptions import exception_handler
from django_torgovo_subscriptions.api.throttling import SubscriptionsRateThrottle
from django_torgovo_subscriptions.conf import subscriptions_settings


class SubscriptionsPagination(PageNumberPagination):
    """``?page=N&page_size=M``; answers ``{"count", "next", "previous", "results"}``."""

    page_size_query_param = "page_size"

    def get_page_size(self, request: Any) -> int | None:
        self.page_size = subscriptions_settings.PAGE_SIZE
        self.max_page_size = subscriptions_settings.MAX_PAGE_SIZE
        return super().get_page_size(request)


class PackageAPIViewMixin:
    """Our error shape regardless of the host's EXCEPTION_HANDLER; paginated lists;
    the package's per-user throttle on top of the host's throttles."""

    pagination_class = SubscriptionsPagination
    permission_classes = [permissions.IsAuthenticated]
    # The THROTTLE_RATES area the view's requests count in; None: not throttled
    # by the package (the receivers, called by servers).
    subscriptions_throttle_scope: str | None = None

    def get_exception_handler(self):
        return exception_handler

    def get_throttles(self):
        return [*super().get_throttles(), SubscriptionsRateThrottle()]
