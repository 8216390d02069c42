"""The package keeps the shape docs/architecture.md describes: small modules, layers that only
point down, no import cycles. `make test` runs the same import check (lint-imports) first."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from importlinter.api import read_configuration

import loyalty_social

PACKAGE = Path(loyalty_social.__file__).resolve().parent
ROOT = PACKAGE.parent
MAX_LINES = 400
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """lint-imports over the package found first on the path from ``root``."""
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_no_module_is_over_400_lines():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}, f"modules over {MAX_LINES} lines (split them by responsibility)"


def test_every_top_level_module_has_a_layer():
    """A new module or feature must be placed in the layers contract, or nothing checks it."""
    contracts = read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]
    layers = next(c for c in contracts if c["id"] == "layers")["layers"]
    placed = set()
    for layer in layers:
        placed |= {name.strip(" ()") for name in re.split(r"[|:]", layer)}
    modules = {
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert modules - placed == set(), "add these to [tool.importlinter] layers in pyproject.toml"


def test_import_contracts_hold():
    """Every contract in pyproject.toml [tool.importlinter] is kept: layers, no cycles."""
    contracts = read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(contracts)} kept, 0 broken" in result.stdout, result.stdout


def test_contracts_catch_an_upward_import_and_a_cycle_inside_a_feature(tmp_path):
    """The contracts are not vacuous: the two kinds of cycle this codebase once had fail them
    (identity asking rules what a link earns; two modules of one feature importing each other)."""
    shutil.copytree(PACKAGE, tmp_path / "loyalty_social", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / "loyalty_social/identity/service.py", "a") as module:
        module.write("\nfrom ..rules.service import list_rules  # noqa\n")
    with open(tmp_path / "loyalty_social/rules/documents.py", "a") as module:
        module.write("\nfrom . import service  # noqa\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert "loyalty_social.identity is not allowed to import loyalty_social.rules" in result.stdout
    assert "No cycles are allowed in loyalty_social.rules" in result.stdout
    assert ".documents -> .service" in result.stdout
