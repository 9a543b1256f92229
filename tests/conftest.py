"""
The suite runs twice: against the example host (tests.settings) and against a
differently shaped host (tests.alt_settings), whose tests live in tests/alt/.
"""

from pathlib import Path

from django.conf import settings

ALT_DIR = Path(__file__).parent / "alt"


def pytest_ignore_collect(collection_path, config):
    alt_run = settings.SETTINGS_MODULE == "tests.alt_settings"
    if collection_path.is_dir():
        return None
    in_alt = ALT_DIR in collection_path.parents
    return in_alt != alt_run or None
