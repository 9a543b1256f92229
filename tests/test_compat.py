"""The package must import and serve without the optional drf-spectacular."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import builtins, sys
real_import = builtins.__import__
def no_spectacular(name, *args, **kwargs):
    if name.startswith("drf_spectacular"):
        raise ImportError("drf_spectacular is not installed")
    return real_import(name, *args, **kwargs)
builtins.__import__ = no_spectacular
sys.path[:0] = [{root!r}, {example!r}]
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
django.setup()
from django.conf import settings
assert "drf_spectacular" not in settings.INSTALLED_APPS
import django_torgovo_subscriptions.urls
from django_torgovo_subscriptions.api.serializers import ActivePlanField
print("ok", ActivePlanField.__name__)
"""


def test_the_api_imports_without_drf_spectacular():
    script = SCRIPT.format(root=str(ROOT), example=str(ROOT / "example_project"))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok ActivePlanField"
