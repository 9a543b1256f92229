"""
Process stored payment events again, or fetch missed ones from the gateway.

    manage.py process_payment_events                  # failed and stuck events
    manage.py process_payment_events --id evt_123     # these events (any status)
    manage.py process_payment_events --from-gateway --since 2026-11-20T00:00:00+00:00
    manage.py process_payment_events --from-gateway --gateway stripe

``--gateway NAME`` limits either mode to one configured gateway; without it,
``--from-gateway`` asks every configured gateway's log in turn and reprocessing
takes stored events of any gateway. A gateway that cannot be reached is a
command error, after the others have been recovered.

Processing is idempotent: an invoice already applied is never applied again,
so reprocessing a processed event is harmless.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from django_torgovo_subscriptions.exceptions import GatewayError, UnknownGateway
from django_torgovo_subscriptions.models import PaymentEvent
from django_torgovo_subscriptions.models.payments import PaymentEventStatus
from django_torgovo_subscriptions.payments import gateway_named, gateway_names, get_gateways
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
            help="Fetch events from each gateway's own records (Stripe's event log keeps "
            "30 days; BTCPay's are the store's invoices) and process those not processed "
            "here yet.",
        )
        parser.add_argument(
            "--since", help="With --from-gateway: ISO 8601 time (default: 3 days ago)."
        )
        parser.add_argument(
            "--gateway",
            help="Only this configured gateway (by name); default: every configured one.",
        )

    def handle(self, *args, event_ids, from_gateway, since, gateway, **options):
        gateways = self.selected(gateway)
        if from_gateway:
            if not gateways:
                raise CommandError("No payment gateway is configured.")
            start = parse_datetime(since) if since else timezone.now() - timedelta(days=3)
            if start is None or timezone.is_naive(start):
                raise CommandError("--since must be an ISO 8601 time with a UTC offset.")
            failed, unreachable = 0, []
            for selected in gateways:
                # One gateway that cannot be reached does not keep the others from recovering.
                try:
                    counts = recover_from_gateway(selected, start)
                except GatewayError as exc:
                    unreachable.append(f"{selected.name}: {exc.message}")
                    continue
                self.stdout.write(
                    f"{selected.name}: fetched {counts['fetched']} events ({counts['new']} new): "
                    f"processed {counts['processed']}, failed {counts['failed']}."
                )
                failed += counts["failed"]
            if unreachable:
                raise CommandError(" ".join(unreachable))
            if failed:
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
        if gateway is not None:
            events = events.filter(gateway=gateway)
        results = reprocess(events.order_by("received_at", "id"), force=force)
        failed = 0
        for event, outcome in results:
            self.stdout.write(f"{event.event_id} ({event.event_type}): {outcome}")
            failed += outcome.startswith("failed")
        self.stdout.write(f"{len(results)} event(s), {failed} failed.")
        if failed:
            raise SystemExit(1)

    @staticmethod
    def selected(name):
        if name is None:
            return get_gateways()
        try:
            return (gateway_named(name),)
        except UnknownGateway:
            raise CommandError(
                f"No payment gateway called {name!r} is configured; configured: "
                f"{', '.join(gateway_names()) or 'none'}."
            ) from None
