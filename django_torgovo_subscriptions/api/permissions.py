"""DRF permission classes for host API views."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission


class HasActiveSubscription(BasePermission):
    """
    Allows users with a live subscription. The view may narrow it with
    ``subscription_plan_type`` and ``subscription_feature`` attributes, or use
    ``HasActiveSubscription.of(plan_type=..., feature=...)``. A refusal is a
    403 whose body carries the package's code (``subscription_required``,
    ``subscription_expired`` or ``feature_not_included``); anonymous users get
    DRF's usual 401/403.
    """

    plan_type: str | None = None
    feature: str | None = None

    @classmethod
    def of(
        cls, plan_type: str | None = None, feature: str | None = None
    ) -> type[HasActiveSubscription]:
        return type(cls.__name__, (cls,), {"plan_type": plan_type, "feature": feature})

    def has_permission(self, request: Any, view: Any) -> bool:
        from django_torgovo_subscriptions.services.subscriptions import require_access

        if not (request.user and request.user.is_authenticated):
            return False
        plan_type = getattr(view, "subscription_plan_type", None) or self.plan_type
        feature = getattr(view, "subscription_feature", None) or self.feature
        request.subscription = require_access(request.user, plan_type, feature)
        return True
