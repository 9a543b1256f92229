"""
Print the subscription status diagram and table of docs/API_DOCUMENTATION.md
and docs/ARCHITECTURE.md from services/subscription_state.py's TRANSITIONS.
`python scripts/subscription_transitions.py --write` updates both docs in place;
tests/test_subscription_state.py fails when they differ.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "API_DOCUMENTATION.md", ROOT / "docs" / "ARCHITECTURE.md")
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "example_project"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django_torgovo_subscriptions.services import subscription_state as state  # noqa: E402


def doc_with_transitions(doc: str) -> str:
    before, rest = doc.split(state.DOCS_START, 1)
    _, after = rest.split(state.DOCS_END, 1)
    return f"{before}{state.render_docs()}{after}"


if __name__ == "__main__":
    if "--write" in sys.argv:
        for doc in DOCS:
            doc.write_text(doc_with_transitions(doc.read_text()))
    else:
        print(state.render_docs())
