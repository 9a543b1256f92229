"""A user's subscription to a plan, and its status."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.models.plans import PlanType


class SubscriptionStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Pending payment")
    TRIAL = "trial", _("Trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


# Statuses that hold the user's one slot per plan type (the unique constraint).
# A cancelled row keeps its slot while it has a paid period (end_date set):
# access runs to end_date, and the expiry sweep frees the slot afterwards.
OPEN_STATUSES = (
    SubscriptionStatus.PENDING_PAYMENT,
    SubscriptionStatus.TRIAL,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
)
OPEN_CONDITION = Q(status__in=[s.value for s in OPEN_STATUSES]) | Q(
    status=SubscriptionStatus.CANCELLED, end_date__isnull=False
)
# Statuses that grant access, as long as end_date is still ahead.
ACCESS_STATUSES = (
    SubscriptionStatus.TRIAL,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.CANCELLED,
)


def renewal_grace() -> timedelta:
    from django_torgovo_subscriptions.conf import subscriptions_settings

    return timedelta(seconds=subscriptions_settings.RENEWAL_GRACE_SECONDS)


# A managed-bot plan with no monthly price (profit share only): the billing
# run renews it at each period's end without a payment.
UNPRICED_MANAGED = Q(plan_type=PlanType.MANAGED_BOT, plan__monthly_price=0)


def awaiting_renewal(now: datetime) -> Q:
    """
    Rows being renewed: a gateway charges at the period's end and reports the
    payment a little later (Stripe: about an hour), and the billing run renews
    an unpriced managed plan within a minute. Until RENEWAL_GRACE_SECONDS
    after end_date they keep access, so a renewal never interrupts trading.
    """
    return Q(
        status__in=[SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE],
        auto_renew=True,
        end_date__gt=now - renewal_grace(),
    ) & (~Q(gateway_subscription_id="") | UNPRICED_MANAGED)


class UserSubscriptionQuerySet(models.QuerySet):
    def open(self) -> UserSubscriptionQuerySet:
        """Rows that occupy the user's slot for their plan type."""
        return self.filter(OPEN_CONDITION)

    def live(self, now: datetime | None = None) -> UserSubscriptionQuerySet:
        """Rows that grant access now: an access status and an end date still ahead
        (or a renewal in flight, see ``awaiting_renewal``)."""
        now = now or timezone.now()
        return self.filter(Q(status__in=ACCESS_STATUSES, end_date__gt=now) | awaiting_renewal(now))

    def lapsed(self, now: datetime | None = None) -> UserSubscriptionQuerySet:
        """Rows that granted access until an end date that has now passed."""
        now = now or timezone.now()
        return self.filter(status__in=ACCESS_STATUSES, end_date__lte=now).exclude(
            awaiting_renewal(now)
        )


class UserSubscription(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="torgovo_subscriptions",
        verbose_name=_("user"),
    )
    plan = models.ForeignKey(
        "subscriptions.SubscriptionPlan",
        on_delete=models.PROTECT,
        related_name="subscriptions",
        verbose_name=_("plan"),
    )
    plan_type = models.CharField(
        _("plan type"),
        max_length=20,
        choices=PlanType.choices,
        editable=False,
        help_text=_("Copied from the plan so the database can enforce one open row per type."),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.PENDING_PAYMENT,
        db_index=True,
    )
    start_date = models.DateTimeField(_("start date"), null=True, blank=True)
    end_date = models.DateTimeField(
        _("end date"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Access ends at this moment unless the subscription is renewed."),
    )
    auto_renew = models.BooleanField(_("auto renew"), default=True)
    payment_method = models.CharField(
        _("payment method"),
        max_length=30,
        blank=True,
        help_text=_(
            "The gateway that charges this subscription (stripe, dummy...), empty if free."
        ),
    )
    gateway_subscription_id = models.CharField(
        _("gateway subscription id"), max_length=255, blank=True, db_index=True
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = UserSubscriptionQuerySet.as_manager()

    class Meta:
        app_label = "subscriptions"
        ordering = ("-created_at", "-id")
        verbose_name = _("user subscription")
        verbose_name_plural = _("user subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=("user", "plan_type"),
                condition=OPEN_CONDITION,
                name="subscriptions_one_open_per_user_and_type",
                violation_error_message=_(
                    "The user already has an open subscription of this plan type."
                ),
            ),
        ]
        indexes = [models.Index(fields=("user", "status"), name="subscriptions_user_status")]

    def __str__(self) -> str:
        return f"{self.user} - {self.plan.name} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        self.plan_type = self.plan.plan_type
        if kwargs.get("update_fields") is not None and "plan" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "plan_type"}
        super().save(*args, **kwargs)

    def is_live(self, now: datetime | None = None) -> bool:
        """True when the row grants access now (status and end date both count)."""
        now = now or timezone.now()
        if self.status not in ACCESS_STATUSES or self.end_date is None:
            return False
        if self.end_date > now:
            return True
        return (
            self.status in (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE)
            and self.auto_renew
            and self.end_date > now - renewal_grace()
            and (bool(self.gateway_subscription_id) or self.renews_without_payment)
        )

    @property
    def renews_without_payment(self) -> bool:
        """A managed-bot plan with no monthly price: the billing run renews it for free."""
        return self.plan_type == PlanType.MANAGED_BOT and not self.plan.monthly_price

    is_live.boolean = True  # type: ignore[attr-defined]
