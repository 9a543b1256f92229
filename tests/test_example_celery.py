"""The example host ships a Celery app: `celery -A example_project worker` runs the package's
tasks on the broker named by CELERY_BROKER_URL."""

from django.conf import settings


def test_the_example_celery_app_finds_the_package_tasks_and_the_broker():
    from example_project import celery_app

    celery_app.loader.import_default_modules()  # what the worker does at start
    assert {
        "django_torgovo_subscriptions.execute_webhook_event",
        "django_torgovo_subscriptions.fan_out_managed_chunk",
    } <= set(celery_app.tasks)
    assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL
