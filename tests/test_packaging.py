from importlib.metadata import version

import django_torgovo_subscriptions


def test_version_has_one_source():
    assert django_torgovo_subscriptions.__version__ == "0.1.0"
    assert version("django-torgovo-subscriptions") == django_torgovo_subscriptions.__version__


def test_app_label_is_subscriptions():
    from django.apps import apps

    config = apps.get_app_config("subscriptions")
    assert config.name == "django_torgovo_subscriptions"
    tables = {m._meta.db_table for m in config.get_models()}
    assert all(table.startswith("subscriptions_") for table in tables)
    assert tables >= {
        "subscriptions_subscriptionplan",
        "subscriptions_usersubscription",
        "subscriptions_custombotwebhook",
        "subscriptions_managedbotperformance",
        "subscriptions_managedbotoffer",
    }
