"""
The package's admin, one module per product (registration happens on import):
``subscriptions`` (plans, user subscriptions), ``custom_bot`` (webhooks and their
event log), ``managed_bot`` (offers, performance), ``managed_bot_history``
(settled periods and the guarantee's shortfall), ``managed_signals`` (signals and
each investor's trade), ``payments`` (payments, gateway
events with the reprocess action, customers, checkouts).
"""

from django_torgovo_subscriptions.admin import (  # noqa: F401  (registration)
    custom_bot,
    managed_bot,
    managed_bot_history,
    managed_signals,
    payments,
    subscriptions,
)
