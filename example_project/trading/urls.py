from django.urls import path

from trading import views

urlpatterns = [
    path("pair-configs/", views.PairConfigListView.as_view(), name="pair-config-list"),
    path("bots/", views.create_bot, name="bot-create"),
    path("dashboard/custom-bot/", views.custom_bot_dashboard, name="custom-bot-dashboard"),
    path("live-trading/", views.LiveTradingStatusView.as_view(), name="live-trading"),
    path("reports/managed/", views.managed_report, name="managed-report"),
]
