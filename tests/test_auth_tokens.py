"""The example host's token endpoints as a browser app uses them: obtain, call, log out."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
LOGOUT = "/api/auth/logout/"


def logged_in(username="alice", password="pw"):
    response = APIClient().post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client, response.json()["token"]


def test_logout_revokes_the_callers_token_and_a_second_call_is_401(user, other_user):
    client, key = logged_in()
    _, theirs = logged_in("mallory")
    assert client.get("/api/subscriptions/").status_code == 200

    response = client.post(LOGOUT)
    assert (response.status_code, response.content) == (204, b"")
    assert list(Token.objects.values_list("key", flat=True)) == [theirs]

    again = client.post(LOGOUT)
    assert again.status_code == 401
    assert again.json() == {"code": "authentication_failed", "detail": "Invalid token."}
    assert again["WWW-Authenticate"] == "Token"
    refused = client.get("/api/subscriptions/")
    assert refused.status_code == 401 and refused.json()["code"] == "authentication_failed"
    # Logging in again issues a new token.
    client, new_key = logged_in()
    assert new_key != key and client.get("/api/subscriptions/").status_code == 200


def test_logout_without_a_token_is_401_naming_the_token_scheme(anon, user):
    response = anon.post(LOGOUT)
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
    assert response["WWW-Authenticate"] == "Token"


def test_a_session_is_no_credential_for_logout(user):
    """Only the token in the Authorization header is revoked; a session cookie
    (the admin's) neither logs out nor deletes the user's token."""
    Token.objects.create(user=user)
    client = APIClient()
    client.force_login(user)
    response = client.post(LOGOUT)
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert Token.objects.filter(user=user).exists()


def test_logout_is_post_only(user):
    client, _ = logged_in()
    response = client.get(LOGOUT)
    assert response.status_code == 405
    assert response.json() == {"code": "method_not_allowed", "detail": 'Method "GET" not allowed.'}
    assert Token.objects.filter(user=user).exists()


def test_the_packages_401_names_the_token_scheme_too(anon):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Token not-a-real-token"}):
        response = anon.get("/api/subscriptions/", **headers)
        assert (response.status_code, response["WWW-Authenticate"]) == (401, "Token")
