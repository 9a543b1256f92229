"""The example host's token endpoint: DRF's, described in the API schema."""

from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken

from django_torgovo_subscriptions.compat import extend_schema, inline_serializer


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
