"""
URLs of the bench server: the example host's, plus the baseline the webhook
receiver is measured against: a minimal DRF view doing 1 SELECT + 1 INSERT.
"""

from django.urls import include, path
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView
from trading.models import Indicator, PairConfig


class Baseline(APIView):
    """Parse the JSON body, read one PairConfig, insert one row, answer 201."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def post(self, request, pk):
        pair_config = PairConfig.objects.only("id").get(pk=pk)
        row = Indicator.objects.create(pair_config=pair_config, name="bench", params=request.data)
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("bench/baseline/<int:pk>/", Baseline.as_view()),
    path("", include("example_project.urls")),
]
