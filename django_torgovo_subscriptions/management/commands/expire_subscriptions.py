"""Move subscriptions whose period has ended to ``expired``. Safe to run any time."""

from django.core.management.base import BaseCommand

from django_torgovo_subscriptions.services.subscriptions import expire_lapsed


class Command(BaseCommand):
    help = "Expire subscriptions whose end date has passed (idempotent)."

    def handle(self, *args, **options):
        count = expire_lapsed()
        self.stdout.write(f"Expired {count} subscription{'s' if count != 1 else ''}.")
