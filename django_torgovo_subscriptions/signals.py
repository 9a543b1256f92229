"""
Signals the package sends. Connect to them to react in the host (emails,
provisioning, analytics). Every signal is sent after the database change is
saved, with ``sender`` the model class. The ``subscription_*`` signals are
sent by ``services.subscription_state`` (its table says which status change
sends which), once per change, inside the transaction that made it.
"""

from django.dispatch import Signal

# A subscription started granting access (subscribed with no gateway, or
# its first payment was confirmed). kwargs: subscription.
subscription_activated = Signal()

# A subscription's period was extended by a month. kwargs: subscription.
subscription_renewed = Signal()

# The user cancelled; access runs on to end_date. kwargs: subscription.
subscription_cancelled = Signal()

# A subscription's period ended without renewal. kwargs: subscription.
subscription_expired = Signal()

# A renewal payment failed and the subscription lost access until it is paid
# (status past_due). kwargs: subscription, payment.
subscription_past_due = Signal()

# A gateway confirmed a payment (from a verified event). Sent once per paid
# invoice, inside the event's processing transaction. kwargs: payment,
# subscription.
payment_confirmed = Signal()

# A gateway reported a failed charge; payment.failure_reason says why. Sent
# inside the event's processing transaction. kwargs: payment, subscription.
payment_failed = Signal()

# A gateway without pull payments (BTCPay) opened the invoice of a subscription's
# next period: e-mail the user payment.payment_url (it expires at
# payment.expires_at; unpaid, the subscription goes past_due). Sent once per
# invoice, by the billing run, inside the transaction that records the pending
# payment. kwargs: payment, subscription.
renewal_invoice_created = Signal()

# A settled period (a month's end, or the exit) of a managed-bot investment
# whose plan guarantees a monthly return found the cumulative net profit short
# of the guarantee. Sent by the monthly settlement (settle_period,
# settle_profit_shares, and settle_on_exit when an investor leaves), once per
# settled period, inside the settlement's transaction: a receiver that raises
# rolls the settlement back (it is retried on the next run), and a receiver
# that pays out through an outside service should do so in
# transaction.on_commit. The package records the shortfall (on
# ManagedBotSettledPeriod) and sends this signal; it never pays anything.
# kwargs: performance (ManagedBotPerformance), settled_period
# (ManagedBotSettledPeriod), shortfall (Decimal: the guarantee so far less the
# cumulative net profit), new_shortfall (Decimal, >= 0: the shortfall above
# the largest of the earlier periods; a host compensating every period pays
# this, and has then paid the largest shortfall in total).
managed_guarantee_shortfall = Signal()
