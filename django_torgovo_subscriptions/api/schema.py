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


def paginated_list_errors(result: dict[str, Any], **kwargs) -> dict[str, Any]:
    """
    drf-spectacular postprocessing hook: every paginated list (an operation
    with a ``page_size`` parameter) answers 400 ``invalid_page_size`` and 404
    for a page past the end, besides the errors its view declares.
    """
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            names = {parameter.get("name") for parameter in operation.get("parameters", [])}
            if "page_size" not in names:
                continue
            responses = operation["responses"]
            for code, description in PAGE_ERRORS.items():
                if code in responses:
                    responses[code]["description"] += f" Or {description}"
                else:
                    responses[code] = {"content": error_body, "description": description}
            operation["responses"] = dict(sorted(responses.items()))
    return result
