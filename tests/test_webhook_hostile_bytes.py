"""
Bytes no database can hold (NUL, lone surrogates) still leave their event row,
and an alert that carries them in a field of its own still trades: what is
stored is escaped (services.custom_bot.redaction.storable). On SQLite and on
PostgreSQL, whose text and jsonb refuse NUL.
"""

import json

import pytest

from django_torgovo_subscriptions.models import WebhookEvent
from django_torgovo_subscriptions.services.storable import storable
from tests.webhook_support import alert_body, post_alert
from trading.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

LONE_SURROGATE = '{"a":"\\ud800"}'  # valid JSON text; the string it decodes to is no UTF-8


def test_storable_escapes_nul_and_lone_surrogates_and_leaves_other_text_alone():
    assert storable("a\x00b") == "a\\x00b"
    assert storable("x\ud800y") == "x\\ud800y"
    assert storable({"k\x00": ["\udfff", 1, None]}) == {"k\\x00": ["\\udfff", 1, None]}
    assert storable("prix 64 250 € ✓") == "prix 64 250 € ✓"


def test_a_lone_surrogate_without_any_secret_is_refused_and_recorded(client):
    response = post_alert(client, "no-such-secret", raw=LONE_SURROGATE)
    assert (response.status_code, response.json()["code"]) == (403, "invalid_secret")
    event = WebhookEvent.objects.get()
    assert "\\ud800" in event.body


@pytest.mark.parametrize(
    "raw",
    [b'{"action": "buy"\x00}', b"\x00\x00\x00", b'{"note": "\\u0000"'],
    ids=["nul-in-json-text", "only-nul", "escaped-nul-broken-json"],
)
def test_a_body_with_nul_bytes_is_a_400_with_its_row(client, secret, raw):
    response = client.post(
        f"/api/custom-bot/webhook/receive/{secret}/", data=raw, content_type="text/plain"
    )
    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert event.status_code == 400 and "\x00" not in event.body


@pytest.mark.parametrize("value", ["\ud800", "a\x00b", {"nested": "\udfff\x00"}])
def test_a_valid_alert_carrying_such_a_value_in_a_field_of_its_own_trades(client, secret, value):
    body = json.dumps(alert_body(secret, note=value))  # \ud800 and \u0000 escapes in the JSON
    response = post_alert(client, secret, raw=body)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "executed"
    event = WebhookEvent.objects.get()
    assert event.outcome == "executed" and Order.objects.count() == 1
    assert event.signal["extra"]["note"] == storable(value)
    assert "\x00" not in event.body
