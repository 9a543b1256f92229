"""Subscription plans: what is for sale."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.models.fields import money_field, percentage_field


class PlanType(models.TextChoices):
    CUSTOM_BOT = "custom_bot", _("Custom bot (TradingView webhook)")
    MANAGED_BOT = "managed_bot", _("Managed bot (profit share)")


def default_currency() -> str:
    from django_torgovo_subscriptions.conf import subscriptions_settings

    return subscriptions_settings.DEFAULT_CURRENCY


class SubscriptionPlanQuerySet(models.QuerySet):
    def active(self) -> SubscriptionPlanQuerySet:
        return self.filter(is_active=True)


class SubscriptionPlan(models.Model):
    plan_type = models.CharField(_("plan type"), max_length=20, choices=PlanType.choices)
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    monthly_price = money_field(_("monthly price"))
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default=default_currency,
        help_text=_("ISO 4217 code, upper case, such as USD."),
    )
    features = models.JSONField(
        _("features"), default=list, blank=True, help_text=_("A list of feature names.")
    )
    guaranteed_monthly_return = percentage_field(
        _("guaranteed monthly return (%)"),
        null=True,
        blank=True,
        help_text=_("Managed bots only: the monthly return the platform guarantees, in percent."),
    )
    profit_share_percentage = percentage_field(
        _("profit share (%)"),
        default=0,
        help_text=_("Managed bots only: the platform's share of profit above the high-water mark."),
    )
    max_trading_pairs = models.PositiveIntegerField(
        _("max trading pairs"),
        default=1,
        help_text=_("How many PairConfigs a subscriber may trade at once on this plan."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive plans are not offered to new subscribers.")
    )
    gateway_price_ids = models.JSONField(
        _("gateway price ids"),
        default=dict,
        blank=True,
        help_text=_(
            'The price id of this plan at each payment gateway, e.g. {"stripe": "price_..."}.'
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SubscriptionPlanQuerySet.as_manager()

    class Meta:
        app_label = "subscriptions"
        ordering = ("plan_type", "monthly_price", "id")
        verbose_name = _("subscription plan")
        verbose_name_plural = _("subscription plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_price__gte=0), name="subscriptions_plan_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(profit_share_percentage__gte=0, profit_share_percentage__lte=100),
                name="subscriptions_plan_profit_share_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.monthly_price} {self.currency}/month)"
