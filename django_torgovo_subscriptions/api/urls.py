"""URL patterns of the API, mounted by the host under its own prefix (``api/``)."""

from django.urls import path

from django_torgovo_subscriptions.api import managed_bot, views

app_name = "subscriptions"

urlpatterns = [
    path("subscription-plans/", views.SubscriptionPlanListView.as_view(), name="plan-list"),
    path("subscriptions/", views.SubscriptionListCreateView.as_view(), name="subscription-list"),
    path(
        "subscriptions/my-subscription/",
        views.MySubscriptionView.as_view(),
        name="my-subscription",
    ),
    path(
        "subscriptions/<int:pk>/",
        views.SubscriptionDetailView.as_view(),
        name="subscription-detail",
    ),
    path(
        "managed-bot/available/",
        managed_bot.ManagedBotAvailableView.as_view(),
        name="managed-bot-available",
    ),
    path(
        "managed-bot/subscribe/",
        managed_bot.ManagedBotSubscribeView.as_view(),
        name="managed-bot-subscribe",
    ),
    path(
        "managed-bot/performance/",
        managed_bot.ManagedBotPerformanceView.as_view(),
        name="managed-bot-performance",
    ),
]
