"""App configuration: label ``subscriptions``."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    name = "django_torgovo_subscriptions"
    label = "subscriptions"
    verbose_name = _("Torgovo subscriptions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_torgovo_subscriptions import checks, receivers  # noqa: F401  (registration)
        from django_torgovo_subscriptions.services.custom_bot import redaction

        # The receive URL's path is its secret: Django's request logs must not hold it.
        redaction.install_log_filter()
