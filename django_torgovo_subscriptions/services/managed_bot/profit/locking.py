"""
The one way profit code changes a ``ManagedBotPerformance`` row.

Every function that changes the row does so inside ``locked(performance)``: a
transaction holding ``select_for_update`` on the row, with the row re-read
under the lock, so two concurrent runs never count an order twice or charge a
share twice. When the transaction commits, the instance passed in is updated
in place with the saved values; when it fails, that instance is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from django_torgovo_subscriptions.models import ManagedBotPerformance


@contextmanager
def locked(performance: ManagedBotPerformance | int) -> Iterator[ManagedBotPerformance]:
    """The row of ``performance``, re-read FOR UPDATE inside a transaction."""
    with transaction.atomic():
        pk = performance.pk if isinstance(performance, ManagedBotPerformance) else performance
        row = ManagedBotPerformance.objects.select_for_update().get(pk=pk)
        yield row
    if isinstance(performance, ManagedBotPerformance) and performance is not row:
        for model_field in row._meta.concrete_fields:
            setattr(performance, model_field.attname, getattr(row, model_field.attname))
