"""Managed bots on offer: which host PairConfigs the platform sells, and on what terms."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.conf import pair_config_model_reference
from django_torgovo_subscriptions.models.fields import money_field


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
