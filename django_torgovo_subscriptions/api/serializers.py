"""Serializers. Decimals are strings in JSON (DRF's default, kept on purpose)."""

from __future__ import annotations

from rest_framework import serializers

from django_torgovo_subscriptions.models import SubscriptionPlan


class SubscriptionPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubscriptionPlan
        fields = (
            "id",
            "plan_type",
            "name",
            "slug",
            "description",
            "monthly_price",
            "currency",
            "features",
            "guaranteed_monthly_return",
            "profit_share_percentage",
            "max_trading_pairs",
        )
        read_only_fields = fields
