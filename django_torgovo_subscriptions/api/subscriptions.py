"""API views for plans and subscriptions: parse, authorize, call a service, serialize."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, permissions, status
from rest_framework.response import Response

from django_torgovo_subscriptions.api.base import PackageAPIViewMixin
from django_torgovo_subscriptions.api.filters import SubscriptionPlanFilter
from django_torgovo_subscriptions.api.schema import (
    AUTH_ERRORS,
    ID_PATH,
    PUBLIC_AUTH_ERRORS,
    error,
)
from django_torgovo_subscriptions.api.serializers import (
    MySubscriptionsSerializer,
    SubscribeSerializer,
    SubscriptionPlanSerializer,
    SubscriptionUpdateSerializer,
    UserSubscriptionSerializer,
)
from django_torgovo_subscriptions.compat import extend_schema
from django_torgovo_subscriptions.exceptions import NoLiveSubscription
from django_torgovo_subscriptions.models import SubscriptionPlan, UserSubscription
from django_torgovo_subscriptions.models.payments import prefetch_open_renewals
from django_torgovo_subscriptions.services import subscriptions as service


@extend_schema(
    tags=["plans"],
    responses={
        200: SubscriptionPlanSerializer(many=True),
        400: error("validation_error: unknown plan_type."),
        **PUBLIC_AUTH_ERRORS,
    },
    auth=[],
)
class SubscriptionPlanListView(PackageAPIViewMixin, generics.ListAPIView):
    """Active plans, by plan type then price. Open to anonymous visitors."""

    serializer_class = SubscriptionPlanSerializer
    permission_classes = [permissions.AllowAny]
    subscriptions_throttle_scope = "subscriptions"
    queryset = SubscriptionPlan.objects.active()
    filter_backends = [DjangoFilterBackend]
    filterset_class = SubscriptionPlanFilter


# A cancel or renewal change is told to the subscription's gateway first; when it
# cannot be, nothing changes.
GATEWAY_TOLD = {
    502: error("gateway_error: the payment provider refused the change; nothing changed."),
    503: error("gateway_unavailable: the payment provider did not answer; nothing changed."),
}


class OwnSubscriptionsMixin(PackageAPIViewMixin):
    serializer_class = UserSubscriptionSerializer
    subscriptions_throttle_scope = "subscriptions"

    def get_queryset(self):
        return (
            UserSubscription.objects.filter(user=self.request.user)
            .select_related("plan")
            .prefetch_related(prefetch_open_renewals())
        )


@extend_schema(
    tags=["subscriptions"],
    responses={200: UserSubscriptionSerializer(many=True), **AUTH_ERRORS},
)
class SubscriptionListCreateView(OwnSubscriptionsMixin, generics.ListAPIView):
    """GET: the user's subscriptions, newest first. POST: subscribe to a plan."""

    @extend_schema(
        request=SubscribeSerializer,
        responses={
            201: UserSubscriptionSerializer,
            400: error("validation_error, parse_error or plan_unavailable."),
            409: error("already_subscribed."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request, *args, **kwargs):
        data = SubscribeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = service.subscribe(request.user, data.validated_data["plan_id"])
        return Response(
            UserSubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED
        )


@extend_schema(
    tags=["subscriptions"],
    parameters=[ID_PATH],
    responses={200: UserSubscriptionSerializer, 404: error("not_found."), **AUTH_ERRORS},
)
class SubscriptionDetailView(OwnSubscriptionsMixin, generics.RetrieveAPIView):
    """GET one; PATCH status, auto_renew or plan_id; DELETE cancels (the row is kept)."""

    @extend_schema(
        request=SubscriptionUpdateSerializer,
        responses={
            200: UserSubscriptionSerializer,
            400: error("validation_error, or unsupported_status: a status other than cancelled."),
            403: error("pair_limit_reached."),
            404: error("not_found."),
            409: error(
                "invalid_status (e.g. already cancelled), plan_type_mismatch or "
                "plan_change_unavailable."
            ),
            **GATEWAY_TOLD,
            **AUTH_ERRORS,
        },
    )
    def patch(self, request, *args, **kwargs):
        subscription = self.get_object()
        data = SubscriptionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "status" in data.validated_data:  # "cancelled", the only status the serializer passes
            subscription = service.cancel(subscription)
        else:
            subscription = service.update(
                subscription,
                auto_renew=data.validated_data.get("auto_renew"),
                plan=data.validated_data.get("plan_id"),
            )
        return Response(UserSubscriptionSerializer(subscription).data)

    @extend_schema(
        responses={
            200: UserSubscriptionSerializer,
            404: error("not_found."),
            409: error("invalid_status: already cancelled or expired."),
            **GATEWAY_TOLD,
            **AUTH_ERRORS,
        },
    )
    def delete(self, request, *args, **kwargs):
        subscription = service.cancel(self.get_object())
        return Response(UserSubscriptionSerializer(subscription).data)


@extend_schema(
    tags=["subscriptions"],
    responses={200: MySubscriptionsSerializer, 404: error("no_subscription."), **AUTH_ERRORS},
)
class MySubscriptionView(PackageAPIViewMixin, generics.GenericAPIView):
    """The subscription granting access now, per plan type."""

    serializer_class = MySubscriptionsSerializer
    subscriptions_throttle_scope = "subscriptions"

    def get(self, request, *args, **kwargs):
        live = service.live_subscriptions(request.user)
        if not any(live.values()):
            raise NoLiveSubscription()
        return Response(MySubscriptionsSerializer(live).data)
