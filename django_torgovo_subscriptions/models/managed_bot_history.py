"""Managed bots over time: one investor's figures per day, and per settled period.

``ManagedBotDailyPoint`` is the ledger's closing figures of one calendar day
(the project's TIME_ZONE) for one ``ManagedBotPerformance``, written by the
recalculation for every day from the investor's first counted order to the
day it reached; a full rebuild rewrites them, so they are part of the ledger.

``ManagedBotSettledPeriod`` is one settlement point (a month's end, or the
exit) as it was settled: the cumulative net profit, the high-water mark and
the share charged, and the guarantee's shortfall at that point. It is
settlement state: written once by the settlement, never by a rebuild.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.models.fields import money_field
from django_torgovo_subscriptions.models.managed_bot import ACCRUAL_DECIMAL_PLACES


class ManagedBotDailyPoint(models.Model):
    performance = models.ForeignKey(
        "subscriptions.ManagedBotPerformance",
        on_delete=models.CASCADE,
        related_name="daily_points",
        verbose_name=_("performance"),
    )
    date = models.DateField(_("date"), help_text=_("A calendar day of the project's TIME_ZONE."))
    cumulative_net = money_field(
        _("cumulative net profit"),
        help_text=_("Realized net profit from the first counted order to the day's close."),
    )
    balance = money_field(
        _("balance"), help_text=_("Initial investment plus the cumulative net profit.")
    )

    class Meta:
        app_label = "subscriptions"
        ordering = ("performance", "date")
        verbose_name = _("managed bot daily point")
        verbose_name_plural = _("managed bot daily points")
        constraints = [
            models.UniqueConstraint(
                fields=("performance", "date"), name="subscriptions_one_point_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.performance_id} {self.date}: {self.balance}"


class ManagedBotSettledPeriod(models.Model):
    performance = models.ForeignKey(
        "subscriptions.ManagedBotPerformance",
        on_delete=models.CASCADE,
        related_name="settled_periods",
        verbose_name=_("performance"),
    )
    month = models.CharField(
        _("month"), max_length=7, help_text=_('"YYYY-MM" of the period, in TIME_ZONE.')
    )
    period_start = models.DateTimeField(_("period start"), null=True, blank=True)
    period_end = models.DateTimeField(
        _("period end"), help_text=_("Profit realized before this moment was settled.")
    )
    final = models.BooleanField(_("final"), default=False, help_text=_("Settled on exit."))
    net_profit = money_field(_("cumulative net profit at the period's end"))
    period_net_profit = money_field(_("net profit of the period"))
    high_water_mark = money_field(_("high-water mark after the settlement"))
    profit_share_accrued = models.DecimalField(
        _("profit share accrued"),
        max_digits=24,
        decimal_places=ACCRUAL_DECIMAL_PLACES,
        default=0,
        help_text=_("The exact share accrued over all settlements up to this one."),
    )
    amount = money_field(_("share charged"), help_text=_("Added to profit_share_due."))
    guaranteed_return = money_field(
        _("guaranteed return so far"),
        null=True,
        blank=True,
        help_text=_("What the plan's guarantee promised up to the period's end; empty: none."),
    )
    guarantee_shortfall = money_field(
        _("guarantee shortfall"),
        null=True,
        blank=True,
        help_text=_("How much the cumulative net profit lacked of it (never negative)."),
    )
    guarantee_shortfall_new = money_field(
        _("new guarantee shortfall"),
        null=True,
        blank=True,
        help_text=_(
            "The shortfall above the largest one of the earlier periods: what a host "
            "compensating every period pays now."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        app_label = "subscriptions"
        ordering = ("performance", "period_end")
        verbose_name = _("managed bot settled period")
        verbose_name_plural = _("managed bot settled periods")
        constraints = [
            models.UniqueConstraint(
                fields=("performance", "period_end"), name="subscriptions_one_settlement_per_point"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.performance_id} {self.month}: {self.amount}"
