"""
The documentation is executable: every curl example in docs/*.md runs against
the live example server, and its status and response shape must match the
documentation. Every URL the package registers must be documented.

Format of an example (see docs/API_DOCUMENTATION.md):

    <!-- setup: SCENARIO -->          (optional; tests/docs_scenarios)
    ```sh
    curl ... "$BASE/api/..." -H "Authorization: Token $TOKEN"
    ```
    `201 Created`
    ```json
    {...}
    ```
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLE = re.compile(
    r"(?:<!--\s*setup:\s*(?P<setup>[\w-]+)\s*-->\s*\n)?"
    r"```sh\n(?P<command>curl.*?)```\s*\n"
    r"`(?P<status>\d{3})[^`\n]*`\s*\n"
    r"```json\n(?P<body>.*?)```",
    re.S,
)
VARIABLE = re.compile(r"\$([A-Z][A-Z0-9_]*)")


@dataclass(frozen=True)
class Example:
    file: str
    line: int
    setup: str
    command: str
    status: int
    body: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def collect_examples() -> list[Example]:
    examples = []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text()
        for match in EXAMPLE.finditer(text):
            examples.append(
                Example(
                    file=path.name,
                    line=text.count("\n", 0, match.start("command")),
                    setup=match["setup"] or "default",
                    command=match["command"].strip(),
                    status=int(match["status"]),
                    body=match["body"],
                )
            )
    return examples


EXAMPLES = collect_examples()


def test_the_docs_have_examples():
    assert len(EXAMPLES) >= 20
    # Every ```sh block that runs curl is an example the parser understood.
    for path in DOCS.glob("*.md"):
        text = path.read_text()
        assert text.count("```sh\ncurl") == sum(e.file == path.name for e in EXAMPLES), path.name


def documented_routes() -> set[str]:
    routes = set()
    for path in DOCS.glob("*.md"):
        for _method, url in re.findall(
            r"^### (GET|POST|PATCH|PUT|DELETE)(?:, \w+)* (/\S+)", path.read_text(), re.M
        ):
            routes.add(normalise(url.removeprefix("/api/")))
    return routes


def normalise(route: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", route)


def package_routes(patterns=None, prefix="") -> set[str]:
    from django_torgovo_subscriptions.urls import urlpatterns

    routes = set()
    for pattern in urlpatterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            routes |= package_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            routes.add(normalise(prefix + str(pattern.pattern)))
    return routes


def test_every_package_url_is_documented():
    missing = package_routes() - documented_routes()
    assert not missing, f"URLs without a section in docs/: {sorted(missing)}"


def test_every_package_url_has_an_executed_curl_example():
    example_paths = set()
    for example in EXAMPLES:
        for path in re.findall(r"\$BASE/api/([^\s\"'?]*)", example.command):
            example_paths.add(VARIABLE.sub("x", path))
    missing = [
        route
        for route in package_routes()
        if not any(
            re.fullmatch(re.escape(route).replace(r"\{\}", "[^/]+"), path) for path in example_paths
        )
    ]
    assert not missing, f"URLs without a curl example in docs/: {sorted(missing)}"


def shape(value):
    """What the docs promise about a JSON value: keys, recursively into lists' first items."""
    if isinstance(value, dict):
        return {k: shape(v) if isinstance(v, dict | list) else None for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value and isinstance(value[0], dict) else []
    return None


def same_shape(documented, actual, path="body"):
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        assert set(documented) == set(actual), (
            f"{path}: documented keys {sorted(documented)} != actual {sorted(actual)}"
        )
        for key, value in documented.items():
            if isinstance(value, dict | list) and actual[key] is not None:
                same_shape(value, actual[key], f"{path}.{key}")
    elif isinstance(documented, list) and documented and actual:
        same_shape(documented[0], actual[0], f"{path}[0]")


def numbers_masked(value):
    return re.sub(r"\d+", "N", json.dumps(value, sort_keys=True))


def run_curl(command: str, tmp_path: Path) -> tuple[int, str]:
    (tmp_path / ".curlrc").write_text('silent\nshow-error\nwrite-out = "\\n%{http_code}"\n')
    result = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env={**os.environ, "CURL_HOME": str(tmp_path), "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, f"curl failed: {result.stderr}"
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_documented_example(example: Example, live_server, tmp_path, settings):
    from tests.docs_scenarios import load_all, seed_demo

    scenarios = load_all()
    context = seed_demo(settings)
    assert example.setup in scenarios, f"{example}: unknown setup {example.setup!r}"
    variables = {"BASE": live_server.url, "TOKEN": context.token, "TMP": str(tmp_path)}
    context.variables = variables
    variables.update(scenarios["default"](context))
    if example.setup != "default":
        variables.update(scenarios[example.setup](context))

    undefined = set(VARIABLE.findall(example.command)) - set(variables)
    assert not undefined, f"{example}: no value for {sorted(undefined)}"
    command = VARIABLE.sub(lambda m: str(variables[m[1]]), example.command)

    status, body = run_curl(command, tmp_path)

    assert status == example.status, (
        f"{example}: status {status}, documented {example.status}: {body}"
    )
    documented = json.loads(example.body)
    actual = json.loads(body)
    same_shape(shape(documented), actual)
    if isinstance(documented, dict) and "code" in documented:
        # An error is documented word for word (numbers aside: ids and ages vary):
        # code, sentence and field messages.
        for key in ("code", "detail", "fields"):
            assert numbers_masked(actual.get(key)) == numbers_masked(documented.get(key)), (
                f"{example}: {key}: {actual}"
            )
