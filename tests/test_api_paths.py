"""Object ids in the API's paths: anything but an id is the package's JSON 404, never HTML."""

import pytest

from django_torgovo_subscriptions.api.urls import urlpatterns
from tests.factories import make_plan, make_subscription

pytestmark = pytest.mark.django_db

ID_ROUTES = [str(p.pattern) for p in urlpatterns if "<torgovo_id:pk>" in str(p.pattern)]
NOT_IDS = ["abc", "1.0", "-1", "%20" + "1", "%D9%A1", "9223372036854775808", "9" * 400]


def test_every_id_route_uses_the_converter():
    assert len(ID_ROUTES) >= 5
    assert not [str(p.pattern) for p in urlpatterns if "<int:" in str(p.pattern)]


@pytest.mark.parametrize("route", ID_ROUTES)
@pytest.mark.parametrize("value", NOT_IDS)
def test_a_non_id_is_a_json_404(api, route, value):
    method = api.post if route.endswith("rotate/") else api.get
    response = method("/api/" + route.replace("<torgovo_id:pk>", value))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_an_id_with_leading_zeros_is_the_same_id(api, user):
    subscription = make_subscription(user, make_plan())
    response = api.get(f"/api/subscriptions/000{subscription.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == subscription.pk


@pytest.mark.parametrize("gateway", ["nope", "n%C3%B6pe", "a.b", "%F4%85%AC%B9i%C2%A9"])
def test_an_unknown_gateway_in_the_webhook_url_is_a_json_404(anon, gateway):
    response = anon.post(f"/api/payments/webhook/{gateway}/", "{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_gateway"
