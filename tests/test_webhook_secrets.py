"""
No webhook secret is stored or logged in clear (issue 13, item 4): not when an
alert repeats it in other fields, nested or inside longer text, not in fields
named like credentials, and not in Django's request log when a receive URL is
mistyped (its path holds the secret). Every test greps the stored rows and the
captured log records for the secret.
"""

import json
import logging

import pytest
from django.test import Client, override_settings

from django_torgovo_subscriptions.models import WebhookEvent
from django_torgovo_subscriptions.services.custom_bot import redaction
from tests.webhook_support import RECEIVE, alert_body, post_alert
from trading.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

CREDENTIALS = {
    "api_key": "k-1",
    "apiKey": "k-2",
    "PASSWORD": "p-1",
    "token": "t-1",
    "private_key": "pk-1",
    "Passphrase": "pp-1",
}


def stored_text():
    """Every column of every event and Order, as one text to grep."""
    rows = [*WebhookEvent.objects.values(), *Order.objects.values()]
    return json.dumps(rows, default=str)


def assert_nowhere(secret, caplog, *also):
    stored = stored_text()
    for needle in (secret, *also):
        assert needle not in stored
        assert needle not in caplog.text
        for record in caplog.records:
            assert needle not in str(getattr(record, "request", ""))


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_an_alert_repeating_its_secret_elsewhere_trades_and_stores_it_nowhere(client, secret, logs):
    body = alert_body(
        secret,
        note=f"entry for {secret}, see dashboard",
        meta={"owner": {"hook": secret, "size": 3}, "tags": ["a", f"x{secret}"], **CREDENTIALS},
        **{secret: "as a key"},
        **CREDENTIALS,
    )
    response = post_alert(client, secret, body, HTTP_X_NOTE=f"from {secret}")
    assert response.json()["status"] == "executed"
    event = WebhookEvent.objects.get()
    assert_nowhere(secret, logs, *CREDENTIALS.values())
    extra = event.signal["extra"]
    assert extra["note"] == "entry for [redacted], see dashboard"
    assert extra["meta"]["owner"] == {"hook": "[redacted]", "size": 3}
    assert extra["meta"]["tags"] == ["a", "x[redacted]"]
    assert {extra[name.lower()] for name in CREDENTIALS} == {"[redacted]"}
    assert extra["[redacted]"] == "as a key"
    assert event.headers["X-Note"] == "from [redacted]"
    assert "[redacted], see dashboard" in event.body


def test_a_refused_alert_quoting_its_secret_keeps_it_out_of_the_error(client, secret, logs):
    response = post_alert(client, secret, alert_body(secret, quantity=f"{secret}!"))
    assert response.status_code == 400 and response.json()["code"] == "invalid_quantity"
    assert WebhookEvent.objects.get().code == "invalid_quantity"
    assert_nowhere(secret, logs)


def test_a_body_that_is_no_json_is_stored_without_the_secret(client, secret, logs):
    raw = f'action=buy secret="{secret}" password=hunter2 note: see {secret}xyz'
    response = post_alert(client, secret, raw=raw, content_type="text/plain")
    assert response.json()["code"] == "invalid_json"
    assert WebhookEvent.objects.get().body.startswith("action=buy")
    assert_nowhere(secret, logs, "hunter2")


@pytest.mark.parametrize(
    ("debug", "path", "status"),
    [
        (False, RECEIVE.rstrip("/") + "/extra/", 404),  # an extra segment: Not Found
        (False, RECEIVE + "extra", 404),
        (True, RECEIVE.rstrip("/"), 500),  # DEBUG's APPEND_SLASH error quotes the URL
        (False, RECEIVE.rstrip("/"), 301),  # APPEND_SLASH's redirect
    ],
)
def test_a_mistyped_receive_url_logs_no_secret(secret, logs, debug, path, status):
    client = Client(raise_request_exception=False)
    with override_settings(DEBUG=debug):
        response = client.post(
            path.format(secret), data=json.dumps(alert_body(secret)), content_type="text/plain"
        )
    assert response.status_code == status
    if status != 301:  # Django logs 4xx and 5xx: the record is there, redacted
        (record,) = [r for r in logs.records if r.name == "django.request"]
        assert "/webhook/receive/[redacted]" in record.getMessage()
    assert_nowhere(secret, logs)


@pytest.mark.parametrize(
    "send",
    [
        lambda client, secret: client.get(RECEIVE.format(secret)),
        lambda client, secret: post_alert(client, secret[::-1], alert_body(secret[::-1])),
        lambda client, secret: post_alert(client, secret, raw="{"),
    ],
    ids=["GET (405)", "unknown secret (403)", "invalid JSON (400)"],
)
def test_refusals_on_the_receive_url_log_no_secret(client, secret, logs, send):
    assert send(client, secret).status_code in (400, 403, 405)
    assert WebhookEvent.objects.count() == 1
    assert_nowhere(secret, logs, secret[::-1])


def test_the_log_filter_rewrites_paths_urls_and_exceptions():
    try:
        raise RuntimeError("redirect to example.com/api/custom-bot/webhook/receive/S3CRET/")
    except RuntimeError:
        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            'Error: "%s" at %s',
            ("POST /x/webhook/receive/S3CRET HTTP/1.1", "https://h/webhook/receive/S3CRET?a=1"),
            exc_info=__import__("sys").exc_info(),
        )
    assert redaction.ReceiveURLFilter().filter(record) is True
    text = logging.Formatter().format(record)
    assert "S3CRET" not in text
    assert text.startswith('Error: "POST /x/webhook/receive/[redacted] HTTP/1.1" at https://h/')
    assert (
        "RuntimeError: redirect to example.com/api/custom-bot/webhook/receive/[redacted]/" in text
    )


def test_a_gunicorn_workers_access_log_line_shows_no_secret(caplog, secret):
    caplog.set_level(logging.INFO)
    atoms = {"h": "52.89.214.238", "r": f"POST {RECEIVE.format(secret)} HTTP/1.1", "s": "200"}
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s', atoms)
    (record,) = caplog.records
    assert record.getMessage() == (
        '52.89.214.238 "POST /api/custom-bot/webhook/receive/[redacted]/ HTTP/1.1" 200'
    )
