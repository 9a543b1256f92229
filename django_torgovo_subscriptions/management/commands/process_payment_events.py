"""
Process stored payment events again, or fetch missed ones from the gateway.

    manage.py process_payment_events                  # failed and stuck events
    manage.py process_payment_events --id evt_123     # these events (any status)
    manage.py process_payment_events --from-gateway --since 2026-11-20T00:00:00+00:00

Processing is idempotent: an invoice already applied is never applied again,
so reprocessing a processed event is harmless.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from django_torgovo_subscriptions.exceptions import GatewayError
from django_torgovo_subscriptions.models import PaymentEvent
from django_torgovo_subscriptions.models.payments import PaymentEventStatus
from django_torgovo_subscriptions.payments import get_gateway
from django_torgovo_subscriptions.services.payments import recover_from_gateway, reprocess

# A "received" event older than this was abandoned by a crashed worker.
STUCK_AFTER = timedelta(minutes=5)


class Command(BaseCommand):
    help = "Reprocess failed or stuck payment events, or recover missed ones from the gateway."

    def add_arguments(self, parser):
        parser.add_argument(
            "--id",
            action="append",
            dest="event_ids",
            default=[],
            help="Gateway event id to process again (repeatable), whatever its status.",
        )
        parser.add_argument(
            "--from-gateway",
            action="store_true",
            help="Fetch events from the gateway's own event log (Stripe keeps 30 days) "
            "and process those not processed here yet.",
        )
        parser.add_argument(
            "--since", help="With --from-gateway: ISO 8601 time (default: 3 days ago)."
        )

    def handle(self, *args, event_ids, from_gateway, since, **options):
        if from_gateway:
            gateway = get_gateway()
            if gateway is None:
                raise CommandError("No payment gateway is configured.")
            start = parse_datetime(since) if since else timezone.now() - timedelta(days=3)
            if start is None or timezone.is_naive(start):
                raise CommandError("--since must be an ISO 8601 time with a UTC offset.")
            try:
                counts = recover_from_gateway(gateway, start)
            except GatewayError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(
                f"Fetched {counts['fetched']} events ({counts['new']} new): processed "
                f"{counts['processed']}, failed {counts['failed']}."
            )
            if counts["failed"]:
                raise SystemExit(1)
            return
        if event_ids:
            events = PaymentEvent.objects.filter(event_id__in=event_ids)
            missing = set(event_ids) - set(events.values_list("event_id", flat=True))
            if missing:
                raise CommandError(f"No stored event with id {', '.join(sorted(missing))}.")
            force = True
        else:
            stuck = timezone.now() - STUCK_AFTER
            events = PaymentEvent.objects.filter(
                status=PaymentEventStatus.FAILED
            ) | PaymentEvent.objects.filter(
                status=PaymentEventStatus.RECEIVED, received_at__lt=stuck
            )
            force = False
        results = reprocess(events.order_by("received_at", "id"), force=force)
        failed = 0
        for event, outcome in results:
            self.stdout.write(f"{event.event_id} ({event.event_type}): {outcome}")
            failed += outcome.startswith("failed")
        self.stdout.write(f"{len(results)} event(s), {failed} failed.")
        if failed:
            raise SystemExit(1)
