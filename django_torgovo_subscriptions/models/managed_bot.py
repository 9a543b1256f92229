"""Managed bots: the offers the platform sells, and each investor's performance and profit share.

``ManagedBotOffer`` is the operator's decision to sell one host PairConfig as a
managed bot, and on what terms. ``ManagedBotPerformance`` is one user's
investment in one managed bot.

The figures are maintained by ``django_torgovo_subscriptions.services.managed_bot.profit``
(see docs/MANAGED_BOTS.md). Two kinds of state live on a row:

* the *ledger*, rebuilt from the host's Orders at will: the open FIFO lots,
  the exact running totals and monthly realized P&L (``pnl_state``), the
  cursor of the last order read, and the 0.01-rounded display columns
  (realized_pnl, total_profit, total_loss, fees_paid, current_balance);
* the *settlement* state, which a rebuild never touches: high_water_mark,
  profit_share_accrued/due/paid, settled_until, settled_net_profit, closed_at.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.conf import pair_config_model_reference
from django_torgovo_subscriptions.models.fields import money_field

# Exact accrual of the profit share: rate (up to 6 places) x money (2 places).
ACCRUAL_DECIMAL_PLACES = 8


class ManagedBotPerformance(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="torgovo_managed_performance",
        verbose_name=_("user"),
    )
    subscription = models.ForeignKey(
        "subscriptions.UserSubscription",
        on_delete=models.CASCADE,
        related_name="managed_performance",
        verbose_name=_("subscription"),
    )
    managed_bot = models.ForeignKey(
        pair_config_model_reference(),
        on_delete=models.PROTECT,
        related_name="torgovo_managed_performance",
        verbose_name=_("managed bot"),
    )
    initial_investment = money_field(_("initial investment"))
    current_balance = money_field(
        _("current balance"),
        help_text=_("Initial investment plus realized net profit (open positions at cost)."),
    )
    total_profit = money_field(
        _("total realized profit"), help_text=_("Sum of the winning sells, after fees.")
    )
    total_loss = money_field(
        _("total realized loss"),
        help_text=_("Sum of the losing sells, after fees, as a positive amount."),
    )
    realized_pnl = money_field(
        _("realized net profit"),
        help_text=_("Cumulative realized profit after trading fees, rounded to 0.01."),
    )
    fees_paid = money_field(
        _("trading fees paid"), help_text=_("Exchange fees of the counted orders.")
    )
    profit_share_paid = money_field(_("profit share paid"))
    profit_share_due = money_field(
        _("profit share due"),
        help_text=_("Charged by a settlement and not yet recorded as paid."),
    )
    profit_share_accrued = models.DecimalField(
        _("profit share accrued"),
        max_digits=24,
        decimal_places=ACCRUAL_DECIMAL_PLACES,
        default=0,
        help_text=_(
            "Exact sum of rate x (new high-water mark - old) over all settlements; "
            "the amounts charged are this, rounded to 0.01, less what was charged before."
        ),
    )
    high_water_mark = money_field(
        _("high-water mark"),
        help_text=_("The peak cumulative net profit on which a share has been charged."),
    )
    settled_net_profit = money_field(
        _("net profit at last settlement"),
        help_text=_("Cumulative realized net profit at the last settlement, rounded to 0.01."),
    )
    settled_until = models.DateTimeField(
        _("settled until"),
        null=True,
        blank=True,
        help_text=_("Profit realized before this moment has been settled."),
    )
    orders_since = models.DateTimeField(
        _("orders since"),
        null=True,
        blank=True,
        help_text=_(
            "Only orders at or after this moment count. Empty: all of them. "
            "Rebuild the profit from all orders after changing it."
        ),
    )
    closed_at = models.DateTimeField(
        _("closed at"),
        null=True,
        blank=True,
        help_text=_("Set when the subscriber left and the final share was settled."),
    )
    # --- incremental recalculation state (rebuilt by a full recalculation) ---
    open_lots = models.JSONField(
        _("open FIFO lots"),
        default=list,
        blank=True,
        help_text=_('Oldest first: [["quantity", "cost incl. buy fee"], ...] as decimal strings.'),
    )
    pnl_state = models.JSONField(
        _("ledger state"),
        default=dict,
        blank=True,
        help_text=_("Exact running totals, monthly realized P&L and pending orders."),
    )
    last_order_at = models.DateTimeField(_("last order time"), null=True, blank=True)
    last_order_pk = models.CharField(_("last order id"), max_length=64, blank=True)
    calculated_until = models.DateTimeField(
        _("calculated until"),
        null=True,
        blank=True,
        help_text=_("Every order up to this moment has been read."),
    )
    last_calculated = models.DateTimeField(_("last calculated"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # --- billing: an investor whose trading on the bot is paused ---
    paused_at = models.DateTimeField(
        _("paused at"),
        null=True,
        blank=True,
        help_text=_("Set while new signals of the bot skip this investor."),
    )
    pause_reason = models.CharField(
        _("pause reason"),
        max_length=40,
        blank=True,
        help_text=_("profit_share_unpaid (billing sets and lifts it) or operator (the admin)."),
    )

    class Meta:
        app_label = "subscriptions"
        ordering = ("-created_at", "-id")
        verbose_name = _("managed bot performance")
        verbose_name_plural = _("managed bot performance")
        constraints = [
            models.UniqueConstraint(
                fields=("subscription", "managed_bot"),
                name="subscriptions_one_performance_per_bot",
            ),
            # The ledger is the user's and the bot's: one open row per pair,
            # re-attached to the user's next subscription when they come back.
            models.UniqueConstraint(
                fields=("user", "managed_bot"),
                condition=Q(closed_at__isnull=True),
                name="subscriptions_one_open_ledger_per_user_and_bot",
            ),
            models.CheckConstraint(
                condition=Q(
                    profit_share_due__gte=0,
                    profit_share_paid__gte=0,
                    profit_share_accrued__gte=0,
                ),
                name="subscriptions_performance_share_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.managed_bot}"

    @property
    def net_profit(self) -> Decimal:
        return self.total_profit - self.total_loss

    @property
    def profit_share_charged(self) -> Decimal:
        """Everything settlements have charged: paid plus still due."""
        return self.profit_share_paid + self.profit_share_due

    @property
    def open_quantity(self) -> Decimal:
        return sum((Decimal(quantity) for quantity, _cost in self.open_lots), Decimal(0))

    @property
    def open_cost(self) -> Decimal:
        """What the open position cost, buy fees included (exact)."""
        return sum((Decimal(cost) for _quantity, cost in self.open_lots), Decimal(0))


class ManagedBotOfferQuerySet(models.QuerySet):
    def available(self) -> ManagedBotOfferQuerySet:
        """Offers a user may subscribe to: active, on an active plan."""
        return self.filter(is_active=True, plan__is_active=True)


class ManagedBotOffer(models.Model):
    """The operator's decision to sell one host PairConfig as a managed bot."""

    managed_bot = models.OneToOneField(
        pair_config_model_reference(),
        on_delete=models.PROTECT,
        related_name="torgovo_managed_offer",
        verbose_name=_("managed bot"),
        help_text=_("The host bot configuration the platform runs for investors."),
    )
    plan = models.ForeignKey(
        "subscriptions.SubscriptionPlan",
        on_delete=models.PROTECT,
        related_name="managed_offers",
        limit_choices_to={"plan_type": "managed_bot"},
        verbose_name=_("plan"),
    )
    name = models.CharField(_("public name"), max_length=100)
    description = models.TextField(_("public description"), blank=True)
    minimum_investment = money_field(
        _("minimum investment"), help_text=_("In the plan's currency.")
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive offers take no new investors.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ManagedBotOfferQuerySet.as_manager()

    class Meta:
        app_label = "subscriptions"
        ordering = ("name", "id")
        verbose_name = _("managed bot offer")
        verbose_name_plural = _("managed bot offers")
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_investment__gte=0),
                name="subscriptions_offer_minimum_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- trading for investors: the operator's signals and each investor's trade ---


class ManagedSignalSource(models.TextChoices):
    FUNCTION = "function", _("Host strategy (fan_out)")
    WEBHOOK = "webhook", _("Operator webhook")


class ManagedSignal(models.Model):
    """
    One trade the operator asked of a managed bot, to be placed for every investor.

    ``signal_id`` is unique per bot: a signal sent again under the same id is the
    same signal, and trades only for investors it has no ``ManagedTrade`` for.
    """

    managed_bot = models.ForeignKey(
        pair_config_model_reference(),
        on_delete=models.PROTECT,
        related_name="torgovo_managed_signals",
        verbose_name=_("managed bot"),
    )
    signal_id = models.CharField(
        _("signal id"),
        max_length=100,
        help_text=_("The sender's id for this signal; the same id is never traded twice."),
    )
    side = models.CharField(_("side"), max_length=4)
    symbol = models.CharField(_("symbol"), max_length=50)
    fraction = models.DecimalField(
        _("fraction of allocation"),
        max_digits=7,
        decimal_places=6,
        help_text=_("Each investor trades allocation x fraction / price (0 < fraction <= 1)."),
    )
    price = models.DecimalField(
        _("reference price"),
        max_digits=30,
        decimal_places=12,
        help_text=_("The price quantities are sized at."),
    )
    source = models.CharField(_("source"), max_length=10, choices=ManagedSignalSource.choices)
    webhook_event = models.ForeignKey(
        "subscriptions.WebhookEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_signals",
        verbose_name=_("webhook event"),
        help_text=_("The operator webhook request that sent the signal, if any."),
    )
    chunks_queued = models.PositiveIntegerField(
        _("chunks queued"), default=0, help_text=_("Celery tasks published for this signal.")
    )
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    dispatched_at = models.DateTimeField(
        _("dispatched at"),
        null=True,
        blank=True,
        help_text=_("Every chunk's task was published (Celery)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(
        _("completed at"),
        null=True,
        blank=True,
        help_text=_("Every investor has a trade record for this signal."),
    )

    class Meta:
        app_label = "subscriptions"
        ordering = ("-created_at", "-id")
        verbose_name = _("managed signal")
        verbose_name_plural = _("managed signals")
        constraints = [
            models.UniqueConstraint(
                fields=("managed_bot", "signal_id"), name="subscriptions_one_signal_per_id"
            ),
            models.CheckConstraint(
                condition=Q(fraction__gt=0, fraction__lte=1, price__gt=0),
                name="subscriptions_signal_size_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.fraction} of allocation ({self.signal_id})"


class ManagedTradeOutcome(models.TextChoices):
    # Claimed, not finished: the trade may or may not have been placed, and is
    # never placed again (see docs/MANAGED_BOTS.md, "Trading for investors").
    PENDING = "pending", _("Pending")
    EXECUTED = "executed", _("Executed")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class ManagedTrade(models.Model):
    """What one managed signal did for one investor: at most one row per pair."""

    signal = models.ForeignKey(
        ManagedSignal,
        on_delete=models.CASCADE,
        related_name="trades",
        verbose_name=_("signal"),
    )
    performance = models.ForeignKey(
        ManagedBotPerformance,
        on_delete=models.CASCADE,
        related_name="managed_trades",
        verbose_name=_("investor"),
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=ManagedTradeOutcome.choices)
    code = models.CharField(
        _("reason code"),
        max_length=40,
        blank=True,
        help_text=_("Why the investor was skipped or the trade failed; empty when executed."),
    )
    error = models.TextField(_("error"), blank=True)
    allocation = money_field(_("allocation"), help_text=_("The amount the trade was sized on."))
    quantity = models.DecimalField(_("quantity asked"), max_digits=30, decimal_places=12, default=0)
    order_id = models.CharField(
        _("host order id"),
        max_length=64,
        blank=True,
        help_text=_("Primary key of the host Order the trade produced."),
    )
    # Which run inserted the row: a chunk's claims are one insert that skips rows
    # another run holds, and the run then trades only the rows with its token.
    claim_token = models.CharField(_("claim token"), max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        app_label = "subscriptions"
        ordering = ("signal", "performance")
        verbose_name = _("managed trade")
        verbose_name_plural = _("managed trades")
        constraints = [
            models.UniqueConstraint(
                fields=("signal", "performance"), name="subscriptions_one_trade_per_investor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signal.signal_id} for performance #{self.performance_id}: {self.outcome}"
