"""
CORS in the example host: a browser app on another origin (the React frontend,
http://localhost:3000 by default) may call the API. Real preflight requests go
through the whole middleware stack of the test client, as a browser sends them.
"""

import pytest

from example_project.settings import cors_allowed_origins
from tests.factories import make_subscription

pytestmark = pytest.mark.django_db

APP = "http://localhost:3000"


def preflight(client, path, origin=APP, method="PATCH", headers="authorization, content-type"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def cors_headers(response):
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-")}


def test_a_preflight_from_the_app_is_allowed_without_a_token(anon, user, plan):
    subscription = make_subscription(user, plan)
    response = preflight(anon, f"/api/subscriptions/{subscription.pk}/")
    assert response.status_code == 200
    assert response.content == b""
    assert cors_headers(response) == {
        "access-control-allow-origin": APP,
        "access-control-allow-methods": "DELETE, GET, OPTIONS, PATCH, POST, PUT",
        "access-control-allow-headers": (
            "accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with"
        ),
        "access-control-expose-headers": "Retry-After",
        "access-control-max-age": "86400",
    }
    assert "access-control-allow-credentials" not in cors_headers(response)


def test_the_request_after_the_preflight_is_answered_with_the_cors_headers(api, user, plan):
    subscription = make_subscription(user, plan)
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/",
        {"auto_renew": False},
        format="json",
        HTTP_ORIGIN=APP,
    )
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["auto_renew"]) == (subscription.pk, False)
    assert cors_headers(response) == {
        "access-control-allow-origin": APP,
        "access-control-expose-headers": "Retry-After",
    }
    assert "origin" in response.headers["Vary"].lower()


def test_an_error_answer_carries_the_cors_headers_too(anon):
    """A 401 the app must read (to send the user to log in) is readable cross-origin."""
    response = anon.get("/api/subscriptions/", HTTP_ORIGIN=APP)
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
    assert cors_headers(response)["access-control-allow-origin"] == APP


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:3001", "null"])
def test_an_origin_not_allowed_gets_no_cors_headers(anon, api, origin):
    assert cors_headers(preflight(anon, "/api/subscriptions/", origin=origin)) == {}
    response = api.get("/api/subscriptions/", HTTP_ORIGIN=origin)
    assert response.status_code == 200 and response.json()["count"] == 0
    assert cors_headers(response) == {}


def test_a_preflight_to_a_protected_path_is_not_refused_by_the_subscription_middleware(anon):
    """PROTECTED_PATHS refuses a request without credentials; a preflight never has any."""
    refused = anon.get("/api/reports/managed/")
    assert (refused.status_code, refused.json()["code"]) == (401, "not_authenticated")
    response = preflight(anon, "/api/reports/managed/", method="GET", headers="authorization")
    assert response.status_code == 200
    assert cors_headers(response)["access-control-allow-origin"] == APP


def test_only_the_api_answers_cross_origin(anon):
    response = preflight(anon, "/admin/login/", method="POST")
    assert cors_headers(response) == {}


def test_the_allowed_origins_come_from_the_environment():
    assert cors_allowed_origins({}) == [APP]
    assert cors_allowed_origins(
        {"CORS_ALLOWED_ORIGINS": "https://app.torgovo.example, http://localhost:5173 ,"}
    ) == ["https://app.torgovo.example", "http://localhost:5173"]
    assert cors_allowed_origins({"CORS_ALLOWED_ORIGINS": ""}) == []
