"""
The example host's token endpoints, described in the API schema: DRF's token
log-in (``POST /api/auth/token/``) and logout, which revokes the token a
request carries.
"""

from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from django_torgovo_subscriptions.api.exceptions import exception_handler
from django_torgovo_subscriptions.api.schema import error
from django_torgovo_subscriptions.compat import OpenApiResponse, extend_schema, inline_serializer


def messages(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), required=False, help_text=help_text)


@extend_schema(
    tags=["auth"],
    auth=[],
    request=AuthTokenSerializer,
    responses={
        200: inline_serializer("Token", {"token": serializers.CharField()}),
        400: inline_serializer(
            "TokenError",
            {
                "non_field_errors": messages("Wrong username or password (or inactive user)."),
                "username": messages("Missing username."),
                "password": messages("Missing password."),
                "detail": serializers.CharField(required=False, help_text="A malformed body."),
            },
            help_text="DRF's default error shape: this endpoint belongs to the host.",
        ),
    },
)
class TokenView(ObtainAuthToken):
    """A username and password in, the user's token out (the same token every time)."""

    # No credentials but the body's: a stale token in the header must not refuse a log-in.
    authentication_classes = ()


@extend_schema(
    tags=["auth"],
    request=None,
    responses={
        204: OpenApiResponse(description="The token is deleted; it now answers 401."),
        401: error("not_authenticated or authentication_failed (WWW-Authenticate: Token)."),
    },
)
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
