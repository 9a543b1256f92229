"""
The example host's Celery app, for ``WEBHOOK_EXECUTION = "celery"`` (and
``MANAGED_EXECUTION``, Celery beat):

    WEBHOOK_EXECUTION=celery python manage.py runserver
    celery -A example_project worker -l info

The broker is ``CELERY_BROKER_URL`` from the environment (settings.py);
``autodiscover_tasks()`` finds the package's ``tasks`` module. Needs the
``celery`` extra.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

app = Celery("example_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
