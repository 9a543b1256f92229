"""
System checks of the managed-signal settings (ids subscriptions.E065-E068), run
by ``checks.check_settings``.
"""

from __future__ import annotations

from django.core.checks import CheckMessage, Error

from django_torgovo_subscriptions.checks.custom_bot import ExecutionSettings, check_execution
from django_torgovo_subscriptions.conf import subscriptions_settings

MANAGED_EXECUTION = ExecutionSettings(
    mode="MANAGED_EXECUTION",
    queue="MANAGED_CELERY_QUEUE",
    invalid_mode="subscriptions.E065",
    no_celery="subscriptions.E066",
    invalid_queue="subscriptions.E067",
    hint="'inline' trades a managed signal for every investor in the caller's process; "
    "'celery' in Celery tasks, a chunk of investors each.",
)


def check_managed_settings() -> list[CheckMessage]:
    raw = subscriptions_settings.raw
    errors = check_execution(
        raw("MANAGED_EXECUTION"), raw("MANAGED_CELERY_QUEUE"), MANAGED_EXECUTION
    )
    chunk = raw("MANAGED_CHUNK_SIZE")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        errors.append(
            Error(
                f"MANAGED_CHUNK_SIZE must be a positive integer, not {chunk!r}.",
                id="subscriptions.E068",
            )
        )
    return errors
