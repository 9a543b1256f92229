"""Query filters (django-filter)."""

from __future__ import annotations

import django_filters

from django_torgovo_subscriptions.models import PlanType, SubscriptionPlan

ALLOWED_PLAN_TYPES = ", ".join(PlanType.values)


class SubscriptionPlanFilter(django_filters.FilterSet):
    plan_type = django_filters.ChoiceFilter(
        choices=PlanType.choices,
        error_messages={
            "invalid_choice": f"Unknown plan_type '%(value)s'. Allowed: {ALLOWED_PLAN_TYPES}."
        },
    )

    class Meta:
        model = SubscriptionPlan
        fields = ["plan_type"]
