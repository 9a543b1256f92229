"""The example host's own API: the user's bot configurations."""

from rest_framework import generics, serializers

from trading.models import PairConfig


class PairConfigSerializer(serializers.ModelSerializer):
    class Meta:
        model = PairConfig
        fields = ("id", "name", "exchange", "symbol", "timeframe", "order_size", "is_managed", "is_active")


class PairConfigListView(generics.ListAPIView):
    serializer_class = PairConfigSerializer

    def get_queryset(self):
        return PairConfig.objects.filter(user=self.request.user).order_by("id")
