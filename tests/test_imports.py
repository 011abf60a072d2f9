"""Test support lives in support modules and conftest fixtures: a test module never
imports another test module, nor a conftest (pytest loads those itself)."""
import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# The folders already laid out so (tests/push and tests/sms still import their conftest).
CHECKED = ["api", "browser"]


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.module or ""
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


@pytest.mark.parametrize("folder", CHECKED)
def test_no_test_module_imports_a_test_module_or_a_conftest(folder):
    found = []
    for path in sorted((TESTS / folder).glob("*.py")):
        for module in imported_modules(path):
            last = module.rsplit(".", 1)[-1]
            if last.startswith("test_") or last == "conftest":
                found.append(f"{path.relative_to(TESTS)} imports {module}")
    assert found == []
