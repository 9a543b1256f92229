"""Shared pieces of the OpenAPI description: the error body and common responses."""

from __future__ import annotations

from rest_framework import serializers

from django_torgovo_subscriptions.compat import OpenApiResponse


class ErrorSerializer(serializers.Serializer):
    """The body of every error the package returns."""

    code = serializers.CharField(help_text="Stable machine-readable error code.")
    detail = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="validation_error only: field name -> messages.",
    )


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


# A 429 answers authenticated requests only (api.throttling), so it comes with the 401.
THROTTLED = {429: error("throttled: this area's rate is used up; retry after Retry-After seconds.")}
AUTH_ERRORS = {401: error("not_authenticated or authentication_failed."), **THROTTLED}


def package_endpoints_only(endpoints: list, **kwargs) -> list:
    """drf-spectacular preprocessing hook: describe this package's endpoints only."""
    return [
        (path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
        if callback.__module__.startswith("django_torgovo_subscriptions.")
    ]
