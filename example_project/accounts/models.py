"""Torgovo's user: exchange credentials live on the user itself."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    API = models.CharField("exchange API key", max_length=255, blank=True)
    SECRET = models.CharField("exchange API secret", max_length=255, blank=True)
    Demo = models.BooleanField("demo (paper/sandbox) mode", default=True)
