"""The module map holds: import-linter checks who imports whom (the contracts in pyproject.toml, run by
`make lint`); here, what import-linter cannot say in one line: that the domain uses the standard library
only, and that modules keep to the size budget."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUDGET_LINES = 400
SIZE_CHECKED = ("app", "ocpp_gateway", "optimizer", "smartcharge_client")
GENERATED = ("app/db/migrations/versions",)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "app" / "domain").rglob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_the_standard_library_and_itself_only(path: Path) -> None:
    foreign = {
        name
        for name in imported_modules(path)
        if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("app.domain")
    }
    assert foreign == set(), f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


def test_modules_keep_to_the_size_budget() -> None:
    over = {
        str(path.relative_to(ROOT)): lines
        for package in SIZE_CHECKED
        for path in (ROOT / package).rglob("*.py")
        if not str(path.relative_to(ROOT)).startswith(GENERATED)
        and (lines := len(path.read_text().splitlines())) > BUDGET_LINES
    }
    assert over == {}, f"over {BUDGET_LINES} lines: split by idea"
