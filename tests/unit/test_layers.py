"""Imports point inward: domain/ uses the standard library only; application/ adds domain/ only. Installed,
every layer lives under the one import name `rqledger`; nothing anywhere imports a layer by its bare name."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "application", "adapters", "entrypoints")
BARE = {*LAYERS, "demo_tasks"}


def imported_roots(package: str):
    """(path, what it imports): a layer of ours as "rqledger.<layer>", anything else by its top-level name."""
    for path, name in imported_names(ROOT / package):
        parts = name.split(".")
        yield path, ".".join(parts[:2]) if parts[0] == "rqledger" and len(parts) > 1 else parts[0]


def imported_names(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == "rqledger":
                    yield from ((path, f"rqledger.{alias.name}") for alias in node.names)
                else:
                    yield path, node.module


@pytest.mark.parametrize("package,allowed", [
    ("domain", {"rqledger.domain"}),
    ("application", {"rqledger.domain", "rqledger.application"}),
])
def test_a_layer_imports_only_the_standard_library_and_inner_layers(package, allowed):
    foreign = [
        f"{path.relative_to(ROOT)} imports {root}"
        for path, root in imported_roots(package)
        if root not in allowed and root not in sys.stdlib_module_names and root != "__future__"
    ]
    assert foreign == []


@pytest.mark.parametrize("folder", [*LAYERS, "rqledger", "tests", "benchmarks"])
def test_nothing_imports_a_layer_by_its_bare_name(folder):
    bare = [f"{path.relative_to(ROOT)} imports {name}" for path, name in imported_names(ROOT / folder)
            if name.split(".")[0] in BARE]
    assert bare == []


def test_the_check_sees_a_forbidden_import(tmp_path, monkeypatch):
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "bad.py").write_text("import sqlalchemy\nfrom flask import Flask\nimport domain.task\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert {root for _, root in imported_roots("domain")} == {"sqlalchemy", "flask", "domain"}
