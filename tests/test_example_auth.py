"""The example host's token endpoint (api/auth/token/), as docs/openapi.yaml describes it."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_a_token_for_a_password_even_with_a_stale_token_in_the_header(django_user_model):
    user = django_user_model.objects.create_user("trader", password="pw-123456")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    response = client.post(
        "/api/auth/token/", {"username": "trader", "password": "pw-123456"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"token": user.auth_token.key}


def test_wrong_credentials_are_a_400_in_drf_shape(django_user_model):
    django_user_model.objects.create_user("trader", password="pw-123456")
    response = APIClient().post("/api/auth/token/", {"username": "trader", "password": "no"})
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
