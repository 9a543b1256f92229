"""
The example host's token endpoints beside DRF's ``obtain_auth_token``
(``POST /api/auth/token/``): logout, which revokes the token a request carries.
"""

from rest_framework import status
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from django_torgovo_subscriptions.api.exceptions import exception_handler


class LogoutView(APIView):
    """Delete the caller's DRF token: 204, and from then on the token answers 401."""

    # The token in the Authorization header is what is revoked: a session
    # cookie is no credential here (a 401 names the Token scheme).
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get_exception_handler(self):
        # The 401 in the package's error shape, as every other 401 of the API.
        return exception_handler

    def post(self, request):
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
