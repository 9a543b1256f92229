"""Serializer fields that keep the package's JSON contract whatever the host sets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from rest_framework import serializers

from django_torgovo_subscriptions.compat import OpenApiTypes, extend_schema_field
from django_torgovo_subscriptions.host import get_host_adapter


class StringDecimalField(serializers.DecimalField):
    """A Decimal always rendered as a string ("29.00"), even if the host sets
    COERCE_DECIMAL_TO_STRING = False: money must never become a float."""

    def __init__(self, *args, **kwargs):
        kwargs["coerce_to_string"] = True
        super().__init__(*args, **kwargs)


class PackageModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: StringDecimalField,
    }


def shortfall(larger: Decimal | None, smaller: Decimal | None) -> str | None:
    """``larger`` less ``smaller`` (never below zero) as a money string; None if either is."""
    if larger is None or smaller is None:
        return None
    return f"{max(larger - smaller, Decimal('0')):.2f}"


class BlankAsNullCharField(serializers.CharField):
    """A read-only text that is null when empty (a model CharField with blank=True)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(read_only=True, allow_null=True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return str(value) if value else None


@extend_schema_field(OpenApiTypes.STR)
class PairConfigValueField(serializers.Field):
    """A host PairConfig value by its logical name ("symbol", "exchange"), read only.

    ``source`` names the PairConfig: ``"managed_bot"`` on an offer, ``"*"`` when
    the serialized object is the PairConfig itself."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.logical_name = name
        kwargs["read_only"] = True
        kwargs.setdefault("allow_null", True)  # None where the host has no such field
        super().__init__(**kwargs)

    def to_representation(self, pair_config: Any) -> Any:
        return get_host_adapter().pair_config_value(pair_config, self.logical_name)
