"""
Offer every PairConfig the host flags as managed, for hosts that keep a
"managed" flag on PairConfig (``PAIR_CONFIG_FIELDS["is_managed"]``, read by the
host adapter's ``managed_pair_configs()``).

Creates a ``ManagedBotOffer`` for each flagged, active PairConfig that has
none, on the given plan, and deactivates offers whose PairConfig lost the
flag. A new offer is named after the host's name field
(``PAIR_CONFIG_FIELDS["name"]``; else ``str(pair_config)``) and asks the
host's minimum investment (``PAIR_CONFIG_FIELDS["minimum_investment"]``; where
that is unmapped or empty, ``--minimum``). Offers that exist are not changed
otherwise: the operator edits them in the admin. Safe to run again, and meant
to be run on a schedule when the host flags bots in its own screens (see
docs/MANAGED_BOTS.md).
"""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from django_torgovo_subscriptions.host import get_host_adapter
from django_torgovo_subscriptions.models import ManagedBotOffer, PlanType, SubscriptionPlan
from django_torgovo_subscriptions.models.fields import MONEY_DECIMAL_PLACES

NAME_MAX_LENGTH = ManagedBotOffer._meta.get_field("name").max_length


class Command(BaseCommand):
    help = "Create managed-bot offers for the PairConfigs the host flags as managed."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="Slug of the managed_bot plan.")
        parser.add_argument(
            "--minimum",
            default="0",
            help="Minimum investment of new offers whose PairConfig has none of its own.",
        )

    def handle(self, *args, plan, minimum, **options):
        adapter = get_host_adapter()
        flagged = adapter.managed_pair_configs()
        if flagged is None:
            raise CommandError('PAIR_CONFIG_FIELDS["is_managed"] is not set: no flag to read.')
        try:
            plan_obj = SubscriptionPlan.objects.get(slug=plan, plan_type=PlanType.MANAGED_BOT)
        except SubscriptionPlan.DoesNotExist:
            raise CommandError(f"No managed_bot plan has the slug {plan!r}.") from None
        default_minimum = parse_minimum(minimum, "--minimum")

        created = 0
        for pair_config in flagged.exclude(torgovo_managed_offer__isnull=False):
            name = adapter.pair_config_name(pair_config)
            own_minimum = adapter.pair_config_value(pair_config, "minimum_investment")
            ManagedBotOffer.objects.create(
                managed_bot=pair_config,
                plan=plan_obj,
                name=name[:NAME_MAX_LENGTH],
                minimum_investment=default_minimum
                if own_minimum is None
                else parse_minimum(own_minimum, f"The minimum investment of {name}"),
            )
            created += 1
        deactivated = (
            ManagedBotOffer.objects.filter(is_active=True)
            .exclude(managed_bot__in=flagged)
            .update(is_active=False)
        )
        self.stdout.write(f"Created {created} offer(s), deactivated {deactivated}.")


def parse_minimum(value, label: str) -> Decimal:
    """A minimum investment as money (0.01), refusing what is not a non-negative amount."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise CommandError(f"{label} must be a decimal amount, not {value!r}.") from None
    if not amount.is_finite() or amount < 0:
        raise CommandError(f"{label} must be a decimal amount, 0 or more, not {value!r}.")
    return amount.quantize(Decimal(1).scaleb(-MONEY_DECIMAL_PLACES))
