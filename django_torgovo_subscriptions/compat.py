"""
Optional dependencies.

drf-spectacular (the ``openapi`` extra) only describes the API; without it the
schema decorators are no-ops and the API works the same.
"""

from __future__ import annotations

from typing import Any

try:
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import (
        OpenApiExample,
        OpenApiParameter,
        OpenApiResponse,
        extend_schema,
        extend_schema_field,
        inline_serializer,
    )
except ImportError:  # exercised by tests/test_compat.py and the package smoke test

    def extend_schema(*args: Any, **kwargs: Any):
        return lambda target: target

    extend_schema_field = extend_schema

    class _Placeholder:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

    class _AnyType:
        """Stands for drf_spectacular.types.OpenApiTypes: every member is None."""

        def __getattr__(self, name: str) -> None:
            return None

    OpenApiExample = OpenApiParameter = OpenApiResponse = _Placeholder
    OpenApiTypes = _AnyType()

    def inline_serializer(*args: Any, **kwargs: Any) -> None:
        return None


__all__ = [
    "OpenApiExample",
    "OpenApiParameter",
    "OpenApiResponse",
    "OpenApiTypes",
    "extend_schema",
    "extend_schema_field",
    "inline_serializer",
]
