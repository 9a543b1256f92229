"""Scenarios for the token examples (the example host's /api/auth/ endpoints)."""

from rest_framework.test import APIClient

from tests.docs_scenarios import Context, scenario


@scenario("logged_out")
def logged_out(ctx: Context) -> dict:
    """The demo user has logged out: $TOKEN was revoked by POST /api/auth/logout/."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ctx.token}")
    assert client.post("/api/auth/logout/").status_code == 204
    return {}
