"""
The example host's pair count (its PAIRS_IN_USE_FUNCTION): the package's own
rows (active webhooks, managed-bot investments) and the bots the user created
through POST /api/bots/, so the plan's max_trading_pairs holds for both; in one
query (a UNION), as the webhook receiver asks for it on every alert.
"""

from django_torgovo_subscriptions.models import PlanType
from django_torgovo_subscriptions.services.quota import package_pairs_in_use
from trading.models import Bot


def pairs_in_use(user, plan_type):
    # A bot on a managed configuration counts under the managed-bot plan, any
    # other under the custom-bot plan, as the bot-creation guard asks.
    bots = Bot.objects.filter(
        user=user, pair_config__is_managed=plan_type == PlanType.MANAGED_BOT
    ).values_list("pair_config_id", flat=True)
    # order_by() on the union too: Django 6.1 would order it by the webhook model's Meta.ordering.
    return set(package_pairs_in_use(user, plan_type).union(bots.order_by()).order_by())
