from django.urls import path

from trading.views import PairConfigListView

urlpatterns = [
    path("pair-configs/", PairConfigListView.as_view(), name="pair-config-list"),
]
