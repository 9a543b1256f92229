"""
Settle the managed-bot profit share for a finished calendar month.

    manage.py settle_profit_shares                 the month before this one
    manage.py settle_profit_shares --month 2027-01

Run it monthly (cron, or the periodic task when Celery is configured). Each
open investment is settled under its own row lock; a month already settled
is skipped, so running it twice charges nothing twice. A share above zero
becomes a profit-share Payment, handed to the payment gateway at once (and
by every ``billing`` run while it is still pending); the command prints
what it charged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from django_torgovo_subscriptions.models import ManagedBotPerformance
from django_torgovo_subscriptions.periods import add_months
from django_torgovo_subscriptions.services.managed_bot import charges
from django_torgovo_subscriptions.services.managed_bot.profit import PeriodNotOver, settle_period


def parse_month(value: str) -> tuple[int, int]:
    try:
        moment = datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise CommandError(f"--month must look like 2027-01, not {value!r}.") from None
    return moment.year, moment.month


class Command(BaseCommand):
    help = "Settle the managed-bot profit share of a finished month (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="YYYY-MM; default: last month in TIME_ZONE.")

    def handle(self, *args: Any, month: str | None = None, **options: Any) -> None:
        if month:
            year, number = parse_month(month)
        else:
            last_month = add_months(timezone.localtime(), -1)
            year, number = last_month.year, last_month.month
        charged = settled = skipped = 0
        for performance in ManagedBotPerformance.objects.filter(closed_at__isnull=True).iterator():
            try:
                settlement = settle_period(performance, year, number)
            except PeriodNotOver as exc:
                raise CommandError(str(exc)) from exc
            if settlement.already_settled:
                skipped += 1
                continue
            settled += 1
            charged += settlement.amount
        self.stdout.write(
            f"{year:04d}-{number:02d}: settled {settled}, already settled {skipped}, "
            f"profit share charged {charged:.2f}."
        )
        report = charges.charge_pending()
        self.stdout.write(f"Gateway: {report.describe()}.")
        for line in report.errors:
            self.stderr.write(f"Error: {line}")
        if report.errors:
            # Non-zero so cron notices; billing retries the pending charges every run.
            raise SystemExit(1)
