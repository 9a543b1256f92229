"""Serializer fields that keep the package's JSON contract whatever the host sets."""

from __future__ import annotations

from django.db import models
from rest_framework import serializers


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
