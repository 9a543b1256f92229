"""
The suite runs twice: against the example host (tests.settings) and against a
differently shaped host (tests.alt_settings), whose tests live in tests/alt/.
"""

from pathlib import Path

import pytest
from django.conf import settings

ALT_DIR = Path(__file__).parent / "alt"


def pytest_ignore_collect(collection_path, config):
    alt_run = settings.SETTINGS_MODULE == "tests.alt_settings"
    if collection_path.is_dir():
        return None
    in_alt = ALT_DIR in collection_path.parents
    return in_alt != alt_run or None


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="mallory", password="pw")


@pytest.fixture
def api(user):
    """An API client authenticated with the user's DRF token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def anon():
    from rest_framework.test import APIClient

    return APIClient()
