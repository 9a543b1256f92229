import importlib.util
import re
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


def host_contract_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("### The host contract", 1)[1].split("\n### ", 1)[0]


def test_readme_adapter_example_subclasses_the_default_and_overrides_one_method():
    from django_torgovo_subscriptions.host import DefaultHostAdapter

    [example] = [
        block
        for block in re.findall(r"```python\n(.*?)```", host_contract_section(), re.S)
        if "DefaultHostAdapter" in block
    ]
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    adapter_class = namespace["MyHostAdapter"]
    assert issubclass(adapter_class, DefaultHostAdapter)
    assert [name for name in vars(adapter_class) if not name.startswith("_")] == ["get_credentials"]
    assert namespace["TORGOVO_SUBSCRIPTIONS"]["HOST_ADAPTER_CLASS"].endswith(".MyHostAdapter")


def test_readme_lists_every_host_adapter_method():
    from django_torgovo_subscriptions.host import DefaultHostAdapter

    methods = {name for name in vars(DefaultHostAdapter) if not name.startswith("_")}
    listed = set(re.findall(r"`(\w+)\(", host_contract_section().split("The methods,", 1)[1]))
    assert methods <= listed
    assert listed - methods == {"get_host_adapter"}
