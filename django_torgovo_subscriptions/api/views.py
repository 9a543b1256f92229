"""API views: parse, authorize, call a service, serialize."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, permissions, status
from rest_framework.response import Response

from django_torgovo_subscriptions.api.base import PackageAPIViewMixin
from django_torgovo_subscriptions.api.filters import SubscriptionPlanFilter
from django_torgovo_subscriptions.api.serializers import (
    MySubscriptionsSerializer,
    SubscribeSerializer,
    SubscriptionPlanSerializer,
    SubscriptionUpdateSerializer,
    UserSubscriptionSerializer,
)
from django_torgovo_subscriptions.exceptions import NoLiveSubscription
from django_torgovo_subscriptions.models import SubscriptionPlan, UserSubscription
from django_torgovo_subscriptions.services import subscriptions as service


class SubscriptionPlanListView(PackageAPIViewMixin, generics.ListAPIView):
    """Active plans, by plan type then price. Open to anonymous visitors."""

    serializer_class = SubscriptionPlanSerializer
    permission_classes = [permissions.AllowAny]
    queryset = SubscriptionPlan.objects.active()
    filter_backends = [DjangoFilterBackend]
    filterset_class = SubscriptionPlanFilter


class OwnSubscriptionsMixin(PackageAPIViewMixin):
    serializer_class = UserSubscriptionSerializer

    def get_queryset(self):
        return UserSubscription.objects.filter(user=self.request.user).select_related("plan")


class SubscriptionListCreateView(OwnSubscriptionsMixin, generics.ListAPIView):
    """GET: the user's subscriptions, newest first. POST: subscribe to a plan."""

    def post(self, request, *args, **kwargs):
        data = SubscribeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = service.subscribe(request.user, data.validated_data["plan_id"])
        return Response(UserSubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)


class SubscriptionDetailView(OwnSubscriptionsMixin, generics.RetrieveAPIView):
    """GET one; PATCH auto_renew or plan_id; DELETE cancels (the row is kept)."""

    def patch(self, request, *args, **kwargs):
        subscription = self.get_object()
        data = SubscriptionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = service.update(
            subscription,
            auto_renew=data.validated_data.get("auto_renew"),
            plan=data.validated_data.get("plan_id"),
        )
        return Response(UserSubscriptionSerializer(subscription).data)

    def delete(self, request, *args, **kwargs):
        subscription = service.cancel(self.get_object())
        return Response(UserSubscriptionSerializer(subscription).data)


class MySubscriptionView(PackageAPIViewMixin, generics.GenericAPIView):
    """The subscription granting access now, per plan type."""

    serializer_class = MySubscriptionsSerializer

    def get(self, request, *args, **kwargs):
        live = service.live_subscriptions(request.user)
        if not any(live.values()):
            raise NoLiveSubscription()
        return Response(MySubscriptionsSerializer(live).data)
