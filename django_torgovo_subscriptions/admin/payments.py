"""Admin for payments (with "retry charge" for failed profit shares), payment events (with a
"reprocess" action) and gateway records."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.models.payments import (
    CheckoutSession,
    GatewayCustomer,
    Payment,
    PaymentEvent,
    PaymentKind,
    PaymentStatus,
)
from django_torgovo_subscriptions.services.managed_bot import charges
from django_torgovo_subscriptions.services.payments import reprocess


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "subscription",
        "gateway",
        "kind",
        "profit_share_month",
        "status",
        "amount",
        "currency",
        "billing_reason",
        "period_start",
        "period_end",
        "attempt_count",
        "paid_at",
        "failed_at",
        "created_at",
    )
    list_filter = ("kind", "status", "gateway", "billing_reason", "currency")
    search_fields = (
        "user__username",
        "user__email",
        "gateway_invoice_id",
        "gateway_subscription_id",
        "gateway_customer_id",
        "checkout_session_id",
    )
    list_select_related = ("user", "subscription__plan")
    raw_id_fields = ("user", "subscription", "managed_bot_performance")
    date_hierarchy = "created_at"
    # Money records mirror the gateway; they are corrected there, not here.
    readonly_fields = [f.name for f in Payment._meta.fields]
    actions = ["retry_charge"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Retry charge (failed profit shares)"))
    def retry_charge(self, request, queryset):
        failed = queryset.filter(kind=PaymentKind.PROFIT_SHARE, status=PaymentStatus.FAILED)
        skipped = queryset.count() - failed.count()
        for payment in failed:
            report = charges.retry(payment)
            for line in report.errors:
                self.message_user(request, line, messages.ERROR)
            for charged in report.charged:
                charged.refresh_from_db()
                self.message_user(
                    request,
                    _("Payment %(id)s charged again: %(status)s.")
                    % {"id": charged.pk, "status": charged.get_status_display()},
                    messages.SUCCESS if charged.status == PaymentStatus.PAID else messages.WARNING,
                )
        if skipped:
            self.message_user(
                request,
                _("%(count)d payment(s) skipped: only failed profit shares are retried here.")
                % {"count": skipped},
                messages.WARNING,
            )


@admin.register(PaymentEvent)
class PaymentEventAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "gateway",
        "event_type",
        "event_id",
        "status",
        "error_code",
        "attempts",
        "received_at",
        "processed_at",
    )
    list_filter = ("status", "gateway", "event_type", "error_code")
    search_fields = ("event_id", "event_type", "error")
    raw_id_fields = ("subscription",)
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in PaymentEvent._meta.fields]
    actions = ["reprocess"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Reprocess selected events"))
    def reprocess(self, request, queryset):
        results = reprocess(queryset.order_by("received_at", "id"))
        failed = [
            f"{event.event_id or event.pk}: {outcome}"
            for event, outcome in results
            if outcome.startswith(("failed", "skipped"))
        ]
        done = len(results) - len(failed)
        if done:
            self.message_user(
                request,
                _("%(count)d event(s) processed (or found done).") % {"count": done},
                messages.SUCCESS,
            )
        for line in failed:
            self.message_user(request, line, messages.ERROR)


@admin.register(GatewayCustomer)
class GatewayCustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "gateway", "customer_id", "created_at")
    list_filter = ("gateway",)
    search_fields = ("user__username", "user__email", "customer_id")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "subscription",
        "gateway",
        "session_id",
        "status",
        "expires_at",
        "created_at",
    )
    list_filter = ("status", "gateway")
    search_fields = ("session_id",)
    raw_id_fields = ("subscription",)
    readonly_fields = ("created_at",)
