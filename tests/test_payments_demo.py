"""
The demo script of docs/PAYMENTS.md (subscribe, pay through the dummy gateway,
see the subscription active and the payment in the history, all by curl) runs
as documented against a live example server.
"""

import json
import os
import re
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

DOC = Path(__file__).resolve().parent.parent / "docs" / "PAYMENTS.md"


def demo_script() -> str:
    match = re.search(r"<!-- demo-script -->\n```sh\n(.*?)```", DOC.read_text(), re.S)
    assert match, "docs/PAYMENTS.md lost its demo script"
    return match[1]


@pytest.mark.django_db(transaction=True)
def test_the_documented_demo_runs(live_server, tmp_path):
    call_command("seed_demo", stdout=StringIO())
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", demo_script()],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "BASE": live_server.url, "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    paid, status, history = result.stdout.strip().splitlines()
    assert json.loads(paid)["subscription_status"] == "active"
    assert status == "active"
    [payment] = json.loads(history)["results"]
    assert (payment["status"], payment["amount"], payment["gateway"]) == ("paid", "29.00", "dummy")
