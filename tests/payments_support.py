"""Helpers shared by the payment and billing tests (their fixtures are in conftest.py)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from django.db import connections
from django.test import Client

from django_torgovo_subscriptions.models import UserSubscription
from django_torgovo_subscriptions.payments.dummy import DummyGateway
from django_torgovo_subscriptions.services import subscriptions as service
from tests.fake_stripe import FakeStripe, sign

STRIPE_WEBHOOK = "/api/payments/webhook/stripe/"
DUMMY_WEBHOOK = "/api/payments/webhook/dummy/"
PRICE_ID = "price_1Basic29usdMonthly"
SECOND_DUMMY = "tests.payments_support.SecondDummyGateway"


class SecondDummyGateway(DummyGateway):
    """A second gateway of the dummy's kind, under a name of its own."""

    name = "dummy2"
    display_name = "Second test card (dummy)"


class WebhookServer:
    """
    This server's payment webhooks over real HTTP, for what the dummy gateway
    POSTs (``post_json``): a local HTTP server that hands each request to
    Django, in the test's own database connections (the test is blocked in
    its checkout request meanwhile, so they are never used at once). A
    checkout page requested with ``HTTP_HOST=server.host`` sends its events
    here (the server starts then); ``deliveries`` records each one's URL,
    status and answer.
    """

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self.server: HTTPServer | None = None
        self.shared = list(connections.all())

    def start(self) -> WebhookServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                for connection in outer.shared:
                    connections[connection.alias] = connection
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                meta = {
                    "HTTP_" + name.upper().replace("-", "_"): value
                    for name, value in self.headers.items()
                    if name.lower() not in ("content-type", "content-length")
                }
                response = Client().generic(
                    "POST", self.path, body, self.headers.get("Content-Type", ""), **meta
                )
                outer.deliveries.append(
                    {
                        "url": f"http://{self.headers['Host']}{self.path}",
                        "status": response.status_code,
                        "body": response.content.decode(errors="replace"),
                    }
                )
                self.send_response(response.status_code)
                self.send_header("Content-Type", response["Content-Type"])
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            def log_message(self, *args: Any) -> None:
                pass

        for connection in self.shared:
            connection.inc_thread_sharing()
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
            for connection in self.shared:
                connection.dec_thread_sharing()

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``: the Host to request checkout pages on."""
        if self.server is None:
            self.start()
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"


def offer_gateways(settings, *paths: str, single: str | None = None) -> None:
    """Configure PAYMENT_GATEWAY_CLASSES (the first is the default), or the single setting."""
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": single,
        "PAYMENT_GATEWAY_CLASSES": list(paths),
    }


def use_gateway(settings, path: str | None) -> None:
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": path,
    }


def pending(user, plan) -> UserSubscription:
    subscription = service.subscribe(user, plan)
    assert subscription.status == "pending_payment"
    return subscription


def post_event(
    client,
    event: dict[str, Any],
    *,
    secret: str,
    path: str = STRIPE_WEBHOOK,
    header: str = "HTTP_STRIPE_SIGNATURE",
    timestamp: int | None = None,
    body: bytes | None = None,
):
    """POST ``event`` signed with Stripe's scheme, as Stripe delivers it."""
    body = json.dumps(event).encode() if body is None else body
    return client.post(
        path, body, content_type="application/json", **{header: sign(body, secret, timestamp)}
    )


def deliver(client, fake: FakeStripe, *events: dict[str, Any]) -> list[Any]:
    responses = [post_event(client, event, secret=fake.webhook_secret) for event in events]
    for response in responses:
        assert response.status_code == 200, response.content
    return responses
