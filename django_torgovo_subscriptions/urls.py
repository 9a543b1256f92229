"""``include("django_torgovo_subscriptions.urls")`` mounts the API (namespace ``subscriptions``)."""

from django_torgovo_subscriptions.api.urls import app_name, urlpatterns

__all__ = ["app_name", "urlpatterns"]
