"""
Print the README's settings table from conf.py: every key of DEFAULTS, its
default and the comment above it. `python scripts/settings_table.py --write`
updates README.md in place; tests/test_readme.py fails when they differ.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "django_torgovo_subscriptions" / "conf.py"
README = ROOT / "README.md"
sys.path.insert(0, str(ROOT))

from django_torgovo_subscriptions.conf import DEFAULTS  # noqa: E402  (no settings needed)

PIPE = "\\|"
START, END = "<!-- settings-table: start -->", "<!-- settings-table: end -->"


def defaults_with_comments() -> list[tuple[str, str, str]]:
    source = CONF.read_text()
    tree = ast.parse(source)
    lines = source.splitlines()
    rows = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            if getattr(target, "id", None) == "DEFAULTS":
                for key in node.value.keys:
                    comment = []
                    index = key.lineno - 2
                    while index >= 0 and lines[index].strip().startswith("#"):
                        comment.insert(0, lines[index].strip().lstrip("#").strip())
                        index -= 1
                    rows.append((key.value, repr(DEFAULTS[key.value]), " ".join(comment)))
    return rows


def table() -> str:
    out = ["| key | default | what it is |", "|---|---|---|"]
    for key, default, comment in defaults_with_comments():
        default = re.sub(r"\s+", " ", default).replace("|", PIPE)
        comment = comment.replace("|", PIPE)
        out.append(f"| `{key}` | `{default}` | {comment} |")
    return "\n".join(out)


def readme_with_table(readme: str) -> str:
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{table()}\n{END}{after}"


if __name__ == "__main__":
    updated = readme_with_table(README.read_text())
    if "--write" in sys.argv:
        README.write_text(updated)
    else:
        print(table())
