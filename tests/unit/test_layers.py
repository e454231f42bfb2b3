"""Imports point inward: domain/ uses the standard library only; application/ adds domain/ only."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_roots(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield path, node.module.split(".")[0]


@pytest.mark.parametrize("package,allowed", [
    ("domain", {"domain"}),
    ("application", {"domain", "application"}),
    ("rqledger", {"domain", "application", "rqledger"}),
])
def test_a_layer_imports_only_the_standard_library_and_inner_layers(package, allowed):
    foreign = [
        f"{path.relative_to(ROOT)} imports {root}"
        for path, root in imported_roots(package)
        if root not in allowed and root not in sys.stdlib_module_names and root != "__future__"
    ]
    assert foreign == []


def test_the_check_sees_a_forbidden_import(tmp_path, monkeypatch):
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "bad.py").write_text("import sqlalchemy\nfrom flask import Flask\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert {root for _, root in imported_roots("domain")} == {"sqlalchemy", "flask"}
