"""The HTTP side of the local gateway fakes (fake_stripe.py, fake_btcpay.py): a threaded
server on 127.0.0.1 that hands every request to the fake's ``respond`` and writes JSON back."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import SplitResult, urlsplit


class LocalHTTPFake:
    """Subclasses implement ``respond``; ``start``/``stop``/``url`` serve it."""

    server: ThreadingHTTPServer | None = None

    def respond(
        self, method: str, url: SplitResult, raw: bytes, headers: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """``(status, JSON body, extra response headers)`` for one request."""
        raise NotImplementedError

    def start(self, port: int = 0) -> Any:
        """Serve on ``port`` (0: any free one; the old one to come back after ``stop``)."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body, extra = fake.respond(method, urlsplit(self.path), raw, self.headers)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (the slow-server tests)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"
