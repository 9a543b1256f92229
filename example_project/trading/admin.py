from django.contrib import admin

from trading.models import Bot, Indicator, Order, PairConfig


@admin.register(PairConfig)
class PairConfigAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "exchange", "symbol", "is_managed", "is_active")
    list_filter = ("exchange", "is_managed", "is_active")
    search_fields = ("name", "symbol", "user__username")


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    """Deleting a bot frees its pair in the plan's quota."""

    list_display = ("id", "user", "pair_config", "created_at")
    search_fields = ("user__username", "pair_config__name", "pair_config__symbol")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "symbol",
        "side",
        "quantity",
        "price",
        "status",
        "source",
        "created_at",
    )
    list_filter = ("status", "side", "source")
    search_fields = ("symbol", "exchange_order_id", "user__username")


admin.site.register(Indicator)
