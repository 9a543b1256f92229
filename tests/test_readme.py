import importlib.util
from pathlib import Path

from django_torgovo_subscriptions.conf import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    spec = importlib.util.spec_from_file_location(
        "settings_table", ROOT / "scripts" / "settings_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_settings_table_lists_every_setting_with_a_description():
    script = load_script()
    rows = script.defaults_with_comments()
    assert [key for key, _, _ in rows] == list(DEFAULTS)
    assert all(comment for _, _, comment in rows), (
        "every default needs a comment above it in conf.py"
    )
    readme = (ROOT / "README.md").read_text()
    assert readme == script.readme_with_table(readme), (
        "README's settings table is stale: run python scripts/settings_table.py --write"
    )


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
