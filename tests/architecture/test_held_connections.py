"""A request never holds the only database connection while it awaits other work that needs one (issue 18).

A route whose signature takes the request's unit of work (`UowDep`, or `ScopeDep`, which reads through it)
keeps that unit — on SQLite the pool's only connection — open until it returns. Such a route must not await
the scheduler or a charge point: those write through the store and would wait for the connection it holds.
Routes that do either open short units of work of their own (`StoreDep`). `tests/e2e/test_no_stall.py`
shows the stall itself; this keeps the pattern out of new routes.
"""

import ast
from pathlib import Path

import pytest

ROUTES = Path(__file__).resolve().parents[2] / "app" / "api" / "routes"
HOLDS_A_UNIT = {"UowDep", "ScopeDep"}
AWAITS_OTHER_WORK = {"scheduler", "replan_now", "send", "call"}  # the scheduler, ChargePointCommands


def _holds_a_unit(function: ast.AsyncFunctionDef) -> bool:
    arguments = [*function.args.args, *function.args.kwonlyargs]
    return any(
        isinstance(argument.annotation, ast.Name) and argument.annotation.id in HOLDS_A_UNIT
        for argument in arguments
    )


def _awaited_names(function: ast.AsyncFunctionDef) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Await):
            for inner in ast.walk(node.value):
                if isinstance(inner, ast.Attribute):
                    names.add(inner.attr)
    return names


@pytest.mark.parametrize("path", sorted(ROUTES.glob("*.py")), ids=lambda p: p.name)
def test_no_route_awaits_the_scheduler_or_a_charge_point_while_it_holds_a_unit_of_work(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    offending = sorted(
        function.name
        for function in ast.walk(tree)
        if isinstance(function, ast.AsyncFunctionDef)
        and _holds_a_unit(function)
        and _awaited_names(function) & AWAITS_OTHER_WORK
    )
    assert offending == [], f"{path.name}: {offending} await other work holding the request's unit of work"
