"""
Delete old webhook events: ``prune_webhook_events --older-than 90``.

Without ``--older-than`` the retention is ``WEBHOOK_EVENT_RETENTION_DAYS``.
Events that placed an Order are kept whatever their age: they are the record
of which host Orders came from alerts, read by ``GET orders/``.
The per-minute counts of flood requests (``WebhookRefusalCount``) go with them.
Rows go in batches, so a large backlog does not hold one long lock. Run it
from cron or a periodic task; it is safe to run any time.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.models import WebhookEvent, WebhookRefusalCount


class Command(BaseCommand):
    help = (
        "Delete webhook events received more than --older-than DAYS ago, except those "
        "that placed an order."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            metavar="DAYS",
            help="Keep this many days of events (default: WEBHOOK_EVENT_RETENTION_DAYS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count what would go.")
        parser.add_argument("--batch-size", type=int, default=5000, help="Rows deleted per query.")

    def handle(self, *args, older_than=None, dry_run=False, batch_size=5000, **options):
        days = (
            subscriptions_settings.WEBHOOK_EVENT_RETENTION_DAYS
            if older_than is None
            else older_than
        )
        if days < 1:
            raise CommandError("--older-than must be at least 1 day.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        cutoff = timezone.now() - timedelta(days=days)
        old = WebhookEvent.objects.prunable(cutoff)
        if dry_run:
            count = old.count()
            self.stdout.write(
                f"Would delete {count} webhook event{'s' if count != 1 else ''} "
                f"received before {cutoff:%Y-%m-%d %H:%M %Z}."
            )
            return
        deleted = 0
        while True:
            batch = list(old.order_by().values_list("pk", flat=True)[:batch_size])
            if not batch:
                break
            deleted += (
                WebhookEvent.objects.filter(pk__in=batch)
                .delete()[1]
                .get(WebhookEvent._meta.label, 0)
            )
        floods = WebhookRefusalCount.objects.filter(minute__lt=cutoff).delete()[0]
        self.stdout.write(
            f"Deleted {deleted} webhook event{'s' if deleted != 1 else ''} "
            f"received before {cutoff:%Y-%m-%d %H:%M %Z}"
            + (
                f" and {floods} per-minute flood count{'s' if floods != 1 else ''}."
                if floods
                else "."
            )
        )
