"""The import contracts in pyproject.toml ([tool.importlinter]) hold: shared pieces ->
domain models -> services -> views/CLI, and no cycle between domain packages."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root):
    # --no-cache: the cache would be keyed on file times, and the copy below is new.
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config",
                           str(root / "pyproject.toml")],
                          cwd=root, env={"PYTHONPATH": str(root), "PATH": ""},
                          capture_output=True, text=True, timeout=120)


def test_import_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_cycle_between_domain_packages_breaks_a_contract(tmp_path):
    # The check has teeth: the import that used to make the alerts <-> push cycle fails it.
    shutil.copytree(ROOT / "server", tmp_path / "server",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "server" / "alerts" / "service.py").open("a") as module:
        module.write("\nfrom ..push.service import enqueue_deliveries  # a cycle\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "server.alerts.service -> server.push.service" in result.stdout
