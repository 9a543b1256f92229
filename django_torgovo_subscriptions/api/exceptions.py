"""DRF exception handler giving every API error the package's JSON shape."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from django_torgovo_subscriptions.exceptions import SubscriptionsError, error_payload

# DRF's own exceptions -> (code, detail) used when DRF's detail is not a sentence.
VALIDATION_DETAIL = "The request has invalid fields; see 'fields'."


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Wraps DRF's handler; unexpected exceptions still propagate (and are logged)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or isinstance(exc, SubscriptionsError):
        return response
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_payload("validation_error", VALIDATION_DETAIL, fields)
    elif isinstance(exc, exceptions.APIException):
        response.data = error_payload(_code_of(exc), exc.detail)
    return response
