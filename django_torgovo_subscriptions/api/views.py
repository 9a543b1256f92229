"""API views: parse, authorize, call a service, serialize."""

from __future__ import annotations

from rest_framework import generics, permissions

from django_torgovo_subscriptions.api.serializers import SubscriptionPlanSerializer
from django_torgovo_subscriptions.models import SubscriptionPlan


class SubscriptionPlanListView(generics.ListAPIView):
    """Active plans, cheapest first within each plan type."""

    serializer_class = SubscriptionPlanSerializer
    permission_classes = [permissions.AllowAny]
    queryset = SubscriptionPlan.objects.active()
