"""Field helpers shared by the models."""

from __future__ import annotations

from typing import Any

from django.db import models

MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 2


def money_field(verbose_name: str, **kwargs: Any) -> models.DecimalField:
    """A Decimal amount of money with two decimal places."""
    kwargs.setdefault("default", 0)
    return models.DecimalField(
        verbose_name,
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        **kwargs,
    )


def percentage_field(verbose_name: str, **kwargs: Any) -> models.DecimalField:
    """A percentage from 0.00 to 100.00 (range enforced by a check constraint)."""
    return models.DecimalField(verbose_name, max_digits=5, decimal_places=2, **kwargs)
