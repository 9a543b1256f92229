from django.apps import AppConfig


class BrokerageConfig(AppConfig):
    """A host shaped unlike Torgovo's example: see tests/alt_settings.py."""

    name = "tests.brokerage"
    label = "brokerage"
    default_auto_field = "django.db.models.AutoField"
