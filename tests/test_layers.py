"""
The package's layering rule (docs/ARCHITECTURE.md): a module imports only from
its own layer or the layers below it, at module level or inside a function,
and names no module of a higher layer as an import string either (conf.py's
defaults excepted: a setting's default may name the class a host replaces).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import django_torgovo_subscriptions

PACKAGE = django_torgovo_subscriptions.__name__
ROOT = Path(django_torgovo_subscriptions.__file__).parent

# Lowest first. A module's layer is that of the first part of its dotted name.
LAYERS: list[tuple[str, ...]] = [
    ("conf", "compat", "exceptions", "signals", "host", "periods"),
    ("models",),
    ("trading", "payments"),
    ("services",),
    (
        "api",
        "admin",
        "management",
        "tasks",
        "checks",
        "receivers",
        "decorators",
        "middleware",
        "urls",
        "apps",
    ),
]
# Modules whose string constants may name any module (settings defaults).
IMPORT_STRINGS_ALLOWED = {"conf"}


def layer_of(dotted: str) -> int | None:
    """The layer of a package module given without the package prefix, or None."""
    head = dotted.split(".", 1)[0]
    for index, names in enumerate(LAYERS):
        if head in names:
            return index
    return None


def package_modules() -> dict[str, Path]:
    """Every module of the package but its migrations, by dotted name without the prefix."""
    modules = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).with_suffix("")
        if relative.parts[0] == "migrations":
            continue
        modules[".".join(p for p in relative.parts if p != "__init__")] = path
    return modules


def imported_modules(source: str, module: str, *, strings: bool = True) -> list[str]:
    """The absolute names ``source`` (the module ``module``, or package ``module``'s
    ``__init__``) imports: ``import``, ``from ... import`` (relative ones too), and
    with ``strings`` the dotted package paths it names for ``import_string``."""
    package = module.rsplit(".", 1)[0]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif (
            strings
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith(PACKAGE + ".")
            and " " not in node.value
        ):
            names.append(node.value)
    return names


def higher_imports(name: str, source: str) -> list[str]:
    """What module ``name`` (without the prefix) imports from layers above its own."""
    own = layer_of(name)
    found = []
    for target in imported_modules(
        source, f"{PACKAGE}.{name}", strings=name not in IMPORT_STRINGS_ALLOWED
    ):
        if target == PACKAGE or not target.startswith(PACKAGE + "."):
            continue
        target_layer = layer_of(target[len(PACKAGE) + 1 :])
        if target_layer is not None and target_layer > own:
            found.append(target)
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        "from django_torgovo_subscriptions.services import payments",
        "from django_torgovo_subscriptions import services",
        "import django_torgovo_subscriptions.services.payments",
        "from ..services.payments import receive_webhook",
        "def f():\n    from django_torgovo_subscriptions.services.payments import x",
        "import_string('django_torgovo_subscriptions.services.payments.receive_webhook')",
    ],
)
def test_the_import_check_sees_each_form(snippet):
    assert higher_imports("payments.dummy", snippet), snippet


def test_the_import_check_lets_a_layer_import_its_own_and_lower_layers():
    snippet = (
        "from django_torgovo_subscriptions.payments import signing\n"
        "from . import base\n"
        "from django_torgovo_subscriptions.models import Payment\n"
        "from django_torgovo_subscriptions.conf import subscriptions_settings\n"
    )
    assert higher_imports("payments.dummy", snippet) == []


def test_every_package_module_has_a_layer():
    unplaced = [name for name in package_modules() if name and layer_of(name) is None]
    assert unplaced == [], "place these in LAYERS (and docs/ARCHITECTURE.md)"


def test_no_module_imports_from_a_higher_layer():
    upward = {}
    for name, path in sorted(package_modules().items()):
        if name and (found := higher_imports(name, path.read_text())):
            upward[name] = found
    assert upward == {}, "a layer imports only from its own layer and the ones below"
