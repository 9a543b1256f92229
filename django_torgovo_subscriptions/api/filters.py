"""Query filters (django-filter)."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from django_torgovo_subscriptions.models import PlanType, SubscriptionPlan
from django_torgovo_subscriptions.services import orders

ALLOWED_PLAN_TYPES = ", ".join(PlanType.values)
ORDER_STATUSES = [("executed", "executed"), ("failed", "failed")]
ALLOWED_ORDER_STATUSES = ", ".join(value for value, _label in ORDER_STATUSES)


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


class IdFilter(django_filters.NumberFilter):
    """A positive 64-bit integer id: anything else is a 400, never a database error."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class TimeField(IsoDateTimeField):
    """An ISO 8601 time that also exists in UTC (``0001-01-01T00:00:00+05:00`` does
    not), handed to the database in UTC: ISO 8601 allows offsets up to 23:59,
    PostgreSQL only up to 15:59 (``+23:11`` was a DataError, a 500)."""

    default_error_messages = {"out_of_range": "Enter a time between the years 1 and 9999."}

    def to_python(self, value):
        try:
            parsed = super().to_python(value)
            if parsed is not None:
                parsed = parsed.astimezone(datetime.UTC)
        except OverflowError as exc:
            message = self.error_messages["out_of_range"]
            raise ValidationError(message, code="out_of_range") from exc
        return parsed


class TimeFilter(django_filters.IsoDateTimeFilter):
    field_class = TimeField


class OrderFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        after, before = data.get("created_after"), data.get("created_before")
        if after and before and after >= before:
            self.add_error("created_after", "Must be before created_before.")
        return data


class OrderFilter(django_filters.FilterSet):
    """``orders/`` filters; the host's Order fields are reached through services.orders."""

    source = django_filters.ChoiceFilter(
        choices=PlanType.choices,
        method="filter_source",
        error_messages={
            "invalid_choice": f"Unknown source '%(value)s'. Allowed: {ALLOWED_PLAN_TYPES}."
        },
        help_text="custom_bot (a TradingView alert) or managed_bot (a managed bot's trade).",
    )
    pair_config = IdFilter(method="filter_pair_config", help_text="A PairConfig id.")
    status = django_filters.ChoiceFilter(
        choices=ORDER_STATUSES,
        method="filter_status",
        error_messages={
            "invalid_choice": f"Unknown status '%(value)s'. Allowed: {ALLOWED_ORDER_STATUSES}."
        },
    )
    created_after = TimeFilter(
        method="filter_time", help_text="Placed at or after this time (ISO 8601)."
    )
    created_before = TimeFilter(
        method="filter_time", help_text="Placed before this time (ISO 8601)."
    )

    class Meta:
        form = OrderFilterForm

    def filter_source(self, queryset, name, value):
        return orders.of_source(queryset, self.request.user, value)

    def filter_pair_config(self, queryset, name, value):
        return orders.of_pair_config(queryset, value)

    def filter_status(self, queryset, name, value):
        return orders.of_status(queryset, value)

    def filter_time(self, queryset, name, value):
        bound = {"after": value} if name == "created_after" else {"before": value}
        return orders.placed_between(queryset, **bound)
