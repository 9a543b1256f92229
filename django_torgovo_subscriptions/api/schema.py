"""Shared pieces of the OpenAPI description: the error body, common responses, hooks."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from django_torgovo_subscriptions.compat import OpenApiParameter, OpenApiResponse, OpenApiTypes


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
# Open to anonymous visitors, but a token that is sent is checked (and its user throttled).
PUBLIC_AUTH_ERRORS = {
    401: error("authentication_failed: an Authorization header with an unknown token."),
    **THROTTLED,
}
GATEWAY_ERROR = {502: error("gateway_error: the payment provider refused or could not be reached.")}

# Object ids in paths are integers (a non-integer is the same JSON 404 as an unknown id).
ID_PATH = OpenApiParameter("id", OpenApiTypes.INT, location="path", description="The object's id.")


def package_endpoints_only(endpoints: list, **kwargs) -> list:
    """drf-spectacular preprocessing hook: describe this package's endpoints only."""
    return [
        (path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
        if callback.__module__.startswith("django_torgovo_subscriptions.")
    ]


PAGE_ERRORS = {
    "400": "invalid_page_size: page_size is not a whole number from 1 to MAX_PAGE_SIZE.",
    "404": "not_found: a page past the end (or a page that is not a number).",
}
CSRF_ERROR = {"403": "permission_denied: a session-authenticated request without its CSRF token."}
UNSAFE_METHODS = {"post", "put", "patch", "delete"}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "Whole seconds until a request is accepted again.",
    }
}


def common_errors(result: dict[str, Any], **kwargs) -> dict[str, Any]:
    """
    drf-spectacular postprocessing hook: the errors that come with how an
    operation is reached rather than with its view. Every paginated list (an
    operation with a ``page_size`` parameter) answers 400 ``invalid_page_size``
    and 404 for a page past the end; every unsafe method open to session
    (cookie) authentication answers DRF's 403 CSRF refusal; every 429 carries
    Retry-After.
    """
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            names = {parameter.get("name") for parameter in operation.get("parameters", [])}
            if "page_size" in names:
                add_errors(operation, PAGE_ERRORS)
            cookie = any("cookieAuth" in option for option in operation.get("security", []))
            if cookie and method in UNSAFE_METHODS:
                add_errors(operation, CSRF_ERROR)
            if "429" in operation["responses"]:
                operation["responses"]["429"]["headers"] = RETRY_AFTER
    return result


def add_errors(operation: dict[str, Any], errors: dict[str, str]) -> None:
    """Error responses in the package's shape, appended to a status's description if present."""
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses = operation["responses"]
    for code, description in errors.items():
        if code in responses:
            responses[code]["description"] += f" Or {description}"
        else:
            responses[code] = {"content": error_body, "description": description}
    operation["responses"] = dict(sorted(responses.items()))
