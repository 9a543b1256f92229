"""
The billing run: renewals, past-due expiry, lapsed expiry, pruning.

Idempotent and safe to run every minute (cron, a systemd timer, or a periodic
Celery task calling ``services.payments.run_billing``), even twice at once.
"""

from django.core.management.base import BaseCommand

from django_torgovo_subscriptions.services.payments import run_billing


class Command(BaseCommand):
    help = (
        "Charge renewals due at gateways without recurring billing, renew managed plans "
        "with no monthly price, charge pending profit shares, pause investors whose share "
        "is unpaid after the grace period, expire past_due "
        "subscriptions after the grace period and lapsed ones, prune old rejected "
        "payment webhook deliveries. Idempotent; run it every minute."
    )

    def handle(self, *args, **options):
        report = run_billing()
        self.stdout.write(
            f"Renewals charged: {report.renewals_charged}; renewed without payment: "
            f"{report.renewed_without_payment}; {report.profit_shares.describe()}; investors "
            f"paused: {report.investors_paused}; past_due expired: "
            f"{report.past_due_expired}; lapsed expired: {report.expired}; rejected "
            f"deliveries pruned: {report.rejected_pruned}."
        )
        for line in report.errors:
            self.stderr.write(f"Error: {line}")
        if report.errors:
            # Non-zero so cron/monitoring notices; the rows are retried next run.
            raise SystemExit(1)
