"""
Payments: one row per charge, one per gateway event, plus the gateway-side
customer and checkout sessions (issue 6; see docs/PAYMENTS.md).

* ``PaymentEvent`` is the delivery log of the payment webhook: every request
  leaves a row, accepted or rejected. Accepted events are unique per gateway
  and event id, so a replayed delivery is a no-op, and a failed one keeps its
  error and can be processed again (admin action, ``process_payment_events``).
* ``Payment`` is one charge attempt of an invoice at the gateway, unique per
  gateway and invoice id: however often the gateway reports an invoice paid,
  it pays for one period. Its ``kind`` is a subscription period or a managed
  bot's profit share; a profit-share row is created by the settlement that
  made the share due (one per performance and settlement point, its
  ``period_end``) and handed to the gateway afterwards.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.models.fields import money_field


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")


class PaymentKind(models.TextChoices):
    SUBSCRIPTION = "subscription", _("Subscription")
    PROFIT_SHARE = "profit_share", _("Profit share")


class Payment(models.Model):
    # SET_NULL, not CASCADE: a record of money taken outlives the user and
    # subscription rows (accounting, refunds, disputes).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="torgovo_payments",
        verbose_name=_("user"),
    )
    subscription = models.ForeignKey(
        "subscriptions.UserSubscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("subscription"),
    )
    gateway = models.CharField(_("gateway"), max_length=30)
    status = models.CharField(
        _("status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=PaymentKind.choices,
        default=PaymentKind.SUBSCRIPTION,
        db_index=True,
    )
    managed_bot_performance = models.ForeignKey(
        "subscriptions.ManagedBotPerformance",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="profit_share_payments",
        verbose_name=_("managed bot performance"),
        help_text=_("Profit share only: the investment whose share this charges."),
    )
    profit_share_month = models.CharField(
        _("profit share month"),
        max_length=7,
        blank=True,
        help_text=_("Profit share only: the month settled, YYYY-MM in TIME_ZONE."),
    )
    amount = money_field(_("amount"))
    amount_received = money_field(
        _("amount received"),
        default=None,
        null=True,
        blank=True,
        help_text=_(
            "What the payer sent, in currency, when the gateway reports it (BTCPay): less "
            "than amount on a partial payment, more on an overpayment."
        ),
    )
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217, upper case."))
    billing_reason = models.CharField(
        _("billing reason"),
        max_length=40,
        blank=True,
        help_text=_(
            "Why the gateway billed: subscription_create (first payment) or subscription_cycle."
        ),
    )
    gateway_invoice_id = models.CharField(
        _("gateway invoice id"),
        max_length=255,
        blank=True,
        help_text=_("Empty on a profit share not yet handed to the gateway."),
    )
    gateway_subscription_id = models.CharField(
        _("gateway subscription id"), max_length=255, blank=True, db_index=True
    )
    gateway_customer_id = models.CharField(_("gateway customer id"), max_length=255, blank=True)
    checkout_session_id = models.CharField(_("checkout session id"), max_length=255, blank=True)
    payment_url = models.CharField(
        _("payment URL"),
        max_length=2000,
        blank=True,
        help_text=_("Where the user pays an open invoice (BTCPay's checkout link)."),
    )
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("When the open invoice expires.")
    )
    period_start = models.DateTimeField(
        _("period start"),
        null=True,
        blank=True,
        help_text=_("Start of the subscription period this payment paid for."),
    )
    period_end = models.DateTimeField(_("period end"), null=True, blank=True)
    attempt_count = models.PositiveIntegerField(_("attempts"), default=0)
    failure_reason = models.TextField(
        _("failure reason"),
        blank=True,
        help_text=_("Why the last charge attempt failed, as the gateway reported it."),
    )
    note = models.TextField(
        _("note"),
        blank=True,
        help_text=_(
            "Set when a paid payment could not be applied to its subscription and needs "
            "a person (refund or manual credit)."
        ),
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        app_label = "subscriptions"
        ordering = ("-created_at", "-id")
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=("gateway", "gateway_invoice_id"),
                condition=~Q(gateway_invoice_id=""),
                name="subscriptions_payment_one_per_invoice",
            ),
            # One charge per settlement: the settlement point is period_end.
            models.UniqueConstraint(
                fields=("managed_bot_performance", "period_end"),
                condition=Q(kind="profit_share"),
                name="subscriptions_profit_share_one_per_settlement",
            ),
        ]
        indexes = [models.Index(fields=("user", "-created_at"), name="subscriptions_payment_user")]

    def __str__(self) -> str:
        invoice = f"{self.gateway} {self.gateway_invoice_id}"
        return f"{self.amount} {self.currency} {self.status} ({invoice})"


# ``billing_reason`` of a renewal (the gateways use Stripe's words).
RENEWAL_REASON = "subscription_cycle"


def open_renewals() -> models.QuerySet[Payment]:
    """
    Renewal invoices still open for the user to pay (a gateway without pull
    payments, BTCPay, leaves them with a link), newest first.
    """
    return Payment.objects.filter(
        kind=PaymentKind.SUBSCRIPTION,
        status=PaymentStatus.PENDING,
        billing_reason=RENEWAL_REASON,
    ).exclude(payment_url="")


# ``prefetch_related`` of a subscription queryset that ``pending_renewal`` then reads.
OPEN_RENEWALS_ATTR = "open_renewal_payments"


def prefetch_open_renewals() -> models.Prefetch:
    return models.Prefetch("payments", queryset=open_renewals(), to_attr=OPEN_RENEWALS_ATTR)


def pending_renewal(subscription) -> Payment | None:
    """The open invoice of the period after ``subscription.end_date``, or None."""
    if subscription.end_date is None:
        return None
    prefetched = getattr(subscription, OPEN_RENEWALS_ATTR, None)
    if prefetched is not None:
        return next((p for p in prefetched if p.period_start == subscription.end_date), None)
    return (
        open_renewals()
        .filter(subscription_id=subscription.pk, period_start=subscription.end_date)
        .first()
    )


class PaymentEventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")
    REJECTED = "rejected", _("Rejected")


class PaymentEvent(models.Model):
    gateway = models.CharField(_("gateway"), max_length=30)
    event_id = models.CharField(
        _("event id"),
        max_length=255,
        blank=True,
        help_text=_(
            "The gateway's event id; empty on rejected deliveries, whose id is unverified."
        ),
    )
    event_type = models.CharField(_("event type"), max_length=100, blank=True, db_index=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PaymentEventStatus.choices,
        default=PaymentEventStatus.RECEIVED,
        db_index=True,
    )
    body = models.TextField(_("raw body"), blank=True, help_text=_("The request body as received."))
    payload = models.JSONField(
        _("payload"), null=True, blank=True, help_text=_("The verified event, parsed.")
    )
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    remote_ip = models.GenericIPAddressField(_("remote IP"), null=True, blank=True)
    subscription = models.ForeignKey(
        "subscriptions.UserSubscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payment_events",
        verbose_name=_("subscription"),
    )
    error_code = models.CharField(_("error code"), max_length=100, blank=True)
    error = models.TextField(
        _("error"),
        blank=True,
        help_text=_(
            "Why the delivery was rejected, why processing failed (with the traceback), or "
            "why an event was ignored."
        ),
    )
    attempts = models.PositiveIntegerField(
        _("processing attempts"), default=0, help_text=_("How often processing was tried.")
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        app_label = "subscriptions"
        ordering = ("-received_at", "-id")
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        constraints = [
            models.UniqueConstraint(
                fields=("gateway", "event_id"),
                condition=~Q(event_id=""),
                name="subscriptions_payment_event_unique_id",
            ),
        ]

    def __str__(self) -> str:
        event_id = self.event_id or "(rejected)"
        return f"{self.gateway} {self.event_type or '?'} {event_id} ({self.status})"


class GatewayCustomer(models.Model):
    """The user's customer record at a gateway (Stripe ``cus_...``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="torgovo_gateway_customers",
        verbose_name=_("user"),
    )
    gateway = models.CharField(_("gateway"), max_length=30)
    customer_id = models.CharField(_("customer id"), max_length=255)
    data = models.JSONField(
        _("data"),
        default=dict,
        blank=True,
        help_text=_("Gateway-specific details (the dummy gateway keeps the test card here)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        app_label = "subscriptions"
        verbose_name = _("gateway customer")
        verbose_name_plural = _("gateway customers")
        constraints = [
            models.UniqueConstraint(
                fields=("user", "gateway"), name="subscriptions_customer_one_per_gateway"
            ),
            models.UniqueConstraint(
                fields=("gateway", "customer_id"), name="subscriptions_customer_unique_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.customer_id}"


class CheckoutStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETE = "complete", _("Complete")
    EXPIRED = "expired", _("Expired")


class CheckoutSession(models.Model):
    """A checkout started for a pending subscription; reused while open."""

    subscription = models.ForeignKey(
        "subscriptions.UserSubscription",
        on_delete=models.CASCADE,
        related_name="checkout_sessions",
        verbose_name=_("subscription"),
    )
    gateway = models.CharField(_("gateway"), max_length=30)
    session_id = models.CharField(_("session id"), max_length=255)
    url = models.CharField(_("URL"), max_length=2000, help_text=_("Where the user pays."))
    success_url = models.CharField(_("success URL"), max_length=2000, blank=True)
    cancel_url = models.CharField(_("cancel URL"), max_length=2000, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        app_label = "subscriptions"
        ordering = ("-created_at", "-id")
        verbose_name = _("checkout session")
        verbose_name_plural = _("checkout sessions")
        constraints = [
            models.UniqueConstraint(
                fields=("gateway", "session_id"), name="subscriptions_checkout_unique_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.session_id} ({self.status})"

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == CheckoutStatus.OPEN and (
            self.expires_at is None or self.expires_at > now
        )
