"""Scenarios for the throttling examples."""

from rest_framework.test import APIClient

from tests.docs_scenarios import Context, scenario
from tests.webhook_support import clear_rate_limits

EXAMPLE_RATE = "3/hour"


@scenario("throttled")
def throttled(ctx: Context) -> dict:
    """The demo user has used up the subscriptions area's rate, lowered to 3 an hour."""
    ctx.settings.TORGOVO_SUBSCRIPTIONS = {
        **ctx.settings.TORGOVO_SUBSCRIPTIONS,
        "THROTTLE_RATES": {"subscriptions": EXAMPLE_RATE},
    }
    clear_rate_limits()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ctx.token}")
    for _ in range(int(EXAMPLE_RATE.split("/")[0])):
        assert client.get("/api/subscriptions/").status_code == 200
    return {}
