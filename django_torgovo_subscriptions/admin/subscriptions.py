"""
Admin for plans and user subscriptions.

A subscription's status, renewal and cancellation are read-only here: they
change through the services, as the API changes them (the actions below), so
the state machine and the gateway hear of every change.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.exceptions import SubscriptionsError
from django_torgovo_subscriptions.models import SubscriptionPlan, UserSubscription
from django_torgovo_subscriptions.services import subscriptions as lifecycle


@admin.register(SubscriptionPlan)
class SubscriptionPlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "plan_type",
        "monthly_price",
        "currency",
        "profit_share_percentage",
        "max_trading_pairs",
        "is_active",
    )
    list_filter = ("plan_type", "is_active", "currency")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")


@admin.register(UserSubscription)
class UserSubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "plan",
        "status",
        "start_date",
        "end_date",
        "is_live",
        "auto_renew",
        "payment_method",
    )
    list_filter = ("status", "plan_type", "auto_renew", "payment_method", "plan")
    search_fields = ("user__username", "user__email", "plan__name", "gateway_subscription_id")
    list_select_related = ("user", "plan")
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "plan_type",
        "status",
        "auto_renew",
        "cancelled_at",
        "created_at",
        "updated_at",
    )
    actions = ["cancel_selected", "renew_selected"]

    @admin.action(description=_("Cancel selected subscriptions (at the gateway too)"))
    def cancel_selected(self, request, queryset):
        self._change_each(request, queryset, lifecycle.cancel)

    @admin.action(description=_("Turn renewal on for selected subscriptions (resumes cancelled)"))
    def renew_selected(self, request, queryset):
        self._change_each(
            request, queryset, lambda subscription: lifecycle.update(subscription, auto_renew=True)
        )

    def _change_each(self, request, queryset, change: Callable[[UserSubscription], object]):
        done = 0
        for subscription in queryset:
            try:
                change(subscription)
                done += 1
            except SubscriptionsError as exc:
                self.message_user(request, f"{subscription}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(
                request,
                _("%(count)d subscription(s) changed.") % {"count": done},
                messages.SUCCESS,
            )
