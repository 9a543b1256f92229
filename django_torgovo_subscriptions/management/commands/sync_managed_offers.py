"""
Offer every PairConfig the host flags as managed, for hosts that keep a
"managed" flag on PairConfig (``PAIR_CONFIG_FIELDS["is_managed"]``, read by the
host adapter's ``managed_pair_configs()``).

Creates a ``ManagedBotOffer`` for each flagged, active PairConfig that has
none, on the given plan, and deactivates offers whose PairConfig lost the
flag. Offers that exist are not changed otherwise: the operator edits them in
the admin. Safe to run again.
"""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from django_torgovo_subscriptions.host import get_host_adapter
from django_torgovo_subscriptions.models import ManagedBotOffer, PlanType, SubscriptionPlan


class Command(BaseCommand):
    help = "Create managed-bot offers for the PairConfigs the host flags as managed."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="Slug of the managed_bot plan.")
        parser.add_argument("--minimum", default="0", help="Minimum investment of new offers.")

    def handle(self, *args, plan, minimum, **options):
        flagged = get_host_adapter().managed_pair_configs()
        if flagged is None:
            raise CommandError('PAIR_CONFIG_FIELDS["is_managed"] is not set: no flag to read.')
        try:
            plan_obj = SubscriptionPlan.objects.get(slug=plan, plan_type=PlanType.MANAGED_BOT)
        except SubscriptionPlan.DoesNotExist:
            raise CommandError(f"No managed_bot plan has the slug {plan!r}.") from None
        try:
            minimum_investment = Decimal(minimum)
        except InvalidOperation:
            raise CommandError(f"--minimum must be a decimal amount, not {minimum!r}.") from None

        created = 0
        for pair_config in flagged.exclude(torgovo_managed_offer__isnull=False):
            ManagedBotOffer.objects.create(
                managed_bot=pair_config,
                plan=plan_obj,
                name=str(pair_config)[:100],
                minimum_investment=minimum_investment,
            )
            created += 1
        deactivated = (
            ManagedBotOffer.objects.filter(is_active=True)
            .exclude(managed_bot__in=flagged)
            .update(is_active=False)
        )
        self.stdout.write(f"Created {created} offer(s), deactivated {deactivated}.")
