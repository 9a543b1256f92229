"""
Recalculate managed-bot profit from the host's Orders.

    manage.py recalculate_profits                 every open performance, incrementally
    manage.py recalculate_profits --user alice    one user's (id or username)
    manage.py recalculate_profits --full          replay every order from the start

Safe to run at any time and as often as wanted (e.g. from cron): each
performance is recalculated in its own transaction under a row lock, and a
run that finds no new orders changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_torgovo_subscriptions.models import ManagedBotPerformance
from django_torgovo_subscriptions.services.managed_bot.profit import Recalculation, recalculate_all


class Command(BaseCommand):
    help = "Recalculate managed-bot realized profit (FIFO, fees included) from the host's Orders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user", help="Only this user's performances: a user id or a username."
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="Rebuild from the first order instead of reading only new ones.",
        )
        parser.add_argument(
            "--include-closed",
            action="store_true",
            help="Also recalculate performances closed by settle_on_exit.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        queryset = ManagedBotPerformance.objects.all()
        if options["user"]:
            queryset = queryset.filter(user=self.find_user(options["user"]))
        verbosity = options["verbosity"]

        def progress(index: int, total: int, performance: Any, outcome: Any) -> None:
            if isinstance(outcome, Recalculation):
                if verbosity >= 2:
                    how = "rebuilt" if outcome.rebuilt else "new"
                    self.stdout.write(
                        f"[{index}/{total}] performance {performance.pk}: "
                        f"{outcome.orders_read} {how} orders, realized "
                        f"{performance.realized_pnl} ({outcome.seconds:.3f}s)"
                    )
                elif verbosity == 1 and (index % 100 == 0 or index == total):
                    self.stdout.write(f"[{index}/{total}]")
            else:
                self.stderr.write(f"[{index}/{total}] performance {performance.pk}: {outcome}")

        summary = recalculate_all(
            queryset,
            full=options["full"],
            include_closed=options["include_closed"],
            progress=progress,
        )
        line = (
            f"Recalculated {summary.performances} performance(s), "
            f"{summary.rebuilt} rebuilt, {summary.orders_read} order(s) read "
            f"in {summary.seconds:.2f}s; {len(summary.failed)} failed."
        )
        if summary.failed:
            raise CommandError(line)
        self.stdout.write(self.style.SUCCESS(line))

    def find_user(self, value: str) -> Any:
        user_model = get_user_model()
        manager = user_model._default_manager
        user = None
        if value.isdigit():
            user = manager.filter(pk=int(value)).first()
        if user is None:
            user = manager.filter(**{user_model.USERNAME_FIELD: value}).first()
        if user is None:
            raise CommandError(f"No user with id or {user_model.USERNAME_FIELD} {value!r}.")
        return user
