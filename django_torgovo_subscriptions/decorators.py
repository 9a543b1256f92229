"""``@subscription_required`` for function views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django_torgovo_subscriptions.exceptions import NotAuthenticated, SubscriptionsError


def subscription_required(
    view: Callable | None = None, *, plan_type: str | None = None, feature: str | None = None
) -> Callable:
    """
    Let the view run only for a user with a live subscription (of
    ``plan_type``, including ``feature``); otherwise answer 401/403 JSON in the
    package's error shape. Works on plain Django views and, placed *under*
    ``@api_view``, on DRF function views (so token authentication has run)::

        @api_view(["POST"])
        @subscription_required(plan_type="custom_bot")
        def start(request): ...
    """

    def decorator(view_func: Callable) -> Callable:
        @functools.wraps(view_func)
        def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
            from django_torgovo_subscriptions.services.subscriptions import require_access

            try:
                if not request.user.is_authenticated:
                    raise NotAuthenticated()
                request.subscription = require_access(request.user, plan_type, feature)
            except SubscriptionsError as error:
                return error.as_response()
            return view_func(request, *args, **kwargs)

        return wrapped

    return decorator(view) if view is not None else decorator
