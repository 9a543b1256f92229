"""Performance of a user's investment in a managed bot, and the profit share."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.conf import pair_config_model_reference

from django_torgovo_subscriptions.models.fields import money_field


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
    current_balance = money_field(_("current balance"))
    total_profit = money_field(_("total realized profit"))
    total_loss = money_field(_("total realized loss"), help_text=_("A positive amount."))
    profit_share_paid = money_field(_("profit share paid"))
    high_water_mark = money_field(
        _("high-water mark"),
        help_text=_("The peak cumulative net profit on which a share has been charged."),
    )
    last_calculated = models.DateTimeField(_("last calculated"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

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
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.managed_bot}"

    @property
    def net_profit(self):
        return self.total_profit - self.total_loss
