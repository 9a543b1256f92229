"""
``SubscriptionRequiredMiddleware``: gate whole URL prefixes.

Configure ``PROTECTED_PATHS`` in ``TORGOVO_SUBSCRIPTIONS``::

    "PROTECTED_PATHS": [
        {"prefix": "/api/bots/", "plan_type": "custom_bot"},
        {"prefix": "/reports/", "feature": "monthly_report"},
    ]

and add the middleware after ``AuthenticationMiddleware``. Requests under a
prefix need a live subscription. Token-authenticated API requests are
authenticated here with DRF's configured authentication classes, since DRF
itself only does that inside the view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import NotAuthenticated, SubscriptionsError


def protected_rule(path: str) -> dict[str, Any] | None:
    """The longest configured prefix that ``path`` falls under, if any."""
    matches = [r for r in subscriptions_settings.PROTECTED_PATHS if path.startswith(r["prefix"])]
    return max(matches, key=lambda r: len(r["prefix"]), default=None)


def authenticated_user(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    authenticators = [auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    try:
        user = Request(request, authenticators=authenticators).user
    except exceptions.APIException:
        return None
    return user if user is not None and user.is_authenticated else None


class SubscriptionRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rule = protected_rule(request.path_info)
        if rule is not None:
            from django_torgovo_subscriptions.services.subscriptions import require_access

            try:
                user = authenticated_user(request)
                if user is None:
                    raise NotAuthenticated()
                request.subscription = require_access(
                    user, rule.get("plan_type"), rule.get("feature")
                )
            except SubscriptionsError as error:
                return error.as_response()
        return self.get_response(request)
