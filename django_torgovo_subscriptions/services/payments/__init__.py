"""
Billing: checkout, gateway events in, subscription periods out, the billing run.

Every change of a subscription's paid period comes from a verified gateway
event, through ``receive_webhook``:

1. verify the delivery (signature with a time tolerance); a rejected one is
   still logged as a ``PaymentEvent`` (status rejected) and answered 400;
2. store the event (unique per gateway and event id) before acting on it, so
   a replay is a no-op and a failure can be processed again;
3. process it in one transaction, holding the event row's lock and then the
   subscription row's (always in that order), so concurrent deliveries of the
   same event, or of different events about the same invoice, apply once;
4. on error, record the traceback on the event outside that transaction and
   raise ``PaymentProcessingError`` (500), so the gateway retries; a
   ``GatewayError`` (the gateway's API asked while processing, 502/503) is
   raised as it is, equally retried.

One invoice pays for one calendar month: ``Payment`` is unique per gateway and
invoice id, and a paid invoice is never applied twice, whichever of
``checkout.session.completed`` and ``invoice.paid`` reports it first.

Modules: ``checkout`` (starting a payment), ``receiver`` (webhook in,
reprocessing, recovery), ``handlers`` (what each event does), ``run`` (the
``billing`` command). The names below are the public API.
"""

from django_torgovo_subscriptions.services.payments.checkout import create_checkout
from django_torgovo_subscriptions.services.payments.receiver import (
    WebhookResult,
    process_event,
    receive_webhook,
    recover_from_gateway,
    reprocess,
)
from django_torgovo_subscriptions.services.payments.run import BillingReport, run_billing

__all__ = [
    "BillingReport",
    "WebhookResult",
    "create_checkout",
    "process_event",
    "receive_webhook",
    "recover_from_gateway",
    "reprocess",
    "run_billing",
]
