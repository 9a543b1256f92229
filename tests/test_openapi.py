"""docs/openapi.yaml is valid OpenAPI and is what the code generates (no drift)."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"


def generated_schema(tmp_path) -> str:
    target = tmp_path / "openapi.yaml"
    # --validate checks it against the OpenAPI 3 JSON schema; --fail-on-warn makes
    # any view drf-spectacular cannot describe fail the test.
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(target),
        stdout=StringIO(),
        stderr=StringIO(),
    )
    return target.read_text()


def test_committed_schema_matches_the_code(tmp_path):
    assert SCHEMA.read_text() == generated_schema(tmp_path), (
        "docs/openapi.yaml is stale: run `make openapi` and commit it."
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/subscription-plans/",
        "/api/subscriptions/{id}/",
        "/api/custom-bot/webhook/generate/",
        "/api/custom-bot/webhook/receive/{secret}/",
        "/api/managed-bot/performance/",
        "/api/payments/webhook/",
    ],
)
def test_schema_describes_the_endpoints_and_their_errors(path):
    import yaml

    schema = yaml.safe_load(SCHEMA.read_text())
    operations = schema["paths"][path]
    responses = {code for operation in operations.values() for code in operation["responses"]}
    assert any(code.startswith("2") for code in responses)
    assert any(code.startswith("4") for code in responses), f"{path} documents no error"
    assert "Error" in schema["components"]["schemas"]


def test_every_unsafe_operation_open_to_a_session_documents_the_csrf_403():
    import yaml

    schema = yaml.safe_load(SCHEMA.read_text())
    unsafe = [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch", "delete")
        and any("cookieAuth" in option for option in operation.get("security", []))
    ]
    assert len(unsafe) >= 5
    for method, path, operation in unsafe:
        assert "permission_denied" in operation["responses"]["403"]["description"], (method, path)


def test_every_paginated_list_documents_a_junk_page_size_and_a_page_past_the_end():
    import yaml

    schema = yaml.safe_load(SCHEMA.read_text())
    lists = [
        operation
        for operations in schema["paths"].values()
        for operation in operations.values()
        if any(p["name"] == "page_size" for p in operation.get("parameters", []))
    ]
    assert len(lists) >= 7
    for operation in lists:
        assert "invalid_page_size" in operation["responses"]["400"]["description"]
        assert "past the end" in operation["responses"]["404"]["description"]


def test_every_429_declares_retry_after():
    import yaml

    schema = yaml.safe_load(SCHEMA.read_text())
    too_many = [
        operation["responses"]["429"]
        for operations in schema["paths"].values()
        for operation in operations.values()
        if "429" in operation["responses"]
    ]
    assert len(too_many) >= 15
    assert all("Retry-After" in response.get("headers", {}) for response in too_many)
