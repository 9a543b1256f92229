"""The example host. Its Celery app is loaded with it, so the web process publishes
to the same broker the worker consumes (when the ``celery`` extra is installed)."""

try:
    from example_project.celery import app as celery_app
except ImportError:  # no celery: WEBHOOK_EXECUTION stays "inline"
    celery_app = None

__all__ = ["celery_app"]
