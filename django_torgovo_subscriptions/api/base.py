"""What every package API view shares: error shape, pagination, auth and throttle defaults."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import permissions
from rest_framework.pagination import PageNumberPagination

from django_torgovo_subscriptions.api.exceptions import exception_handler
from django_torgovo_subscriptions.api.throttling import SubscriptionsRateThrottle
from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import InvalidPageSize

# ASCII digits only, and few enough that int() is cheap: anything longer is too large anyway.
PAGE_SIZE_VALUE = re.compile(r"[0-9]{1,9}")


class SubscriptionsPagination(PageNumberPagination):
    """
    ``?page=N&page_size=M``; answers ``{"count", "next", "previous", "results"}``.

    A ``page_size`` that is not a whole number from 1 to ``MAX_PAGE_SIZE`` is a
    400 ``invalid_page_size`` (DRF would silently use the default instead); a
    page past the end is DRF's 404 ``not_found``.
    """

    page_size_query_param = "page_size"

    def get_page_size(self, request: Any) -> int:
        largest = subscriptions_settings.MAX_PAGE_SIZE
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return subscriptions_settings.PAGE_SIZE
        if PAGE_SIZE_VALUE.fullmatch(value) and 1 <= int(value) <= largest:
            return int(value)
        raise InvalidPageSize(
            f"page_size must be a whole number from 1 to {largest}, not {value[:40]!r}."
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            schema = parameter["schema"]
            if parameter["name"] == self.page_query_param:
                schema["minimum"] = 1
                parameter["description"] = "A page number; a page past the end is a 404."
            elif parameter["name"] == self.page_size_query_param:
                schema.update(minimum=1, maximum=subscriptions_settings.MAX_PAGE_SIZE)
                parameter["description"] = (
                    f"Results per page (default {subscriptions_settings.PAGE_SIZE}); "
                    "any other value is a 400 invalid_page_size."
                )
        return parameters


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
