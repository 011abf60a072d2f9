"""A report's status changes only through reports.status.move, by its table."""
import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from server.reports import status
from server.reports.models import STATUSES

SERVER = Path(__file__).resolve().parents[2] / "server"


def test_the_table_names_only_known_statuses():
    assert status.INITIAL in STATUSES
    for moves in status.TRANSITIONS.values():
        assert set(moves) <= set(STATUSES) and set(moves.values()) <= set(STATUSES)
    for event, from_status in status.REFUSALS:
        assert from_status not in status.TRANSITIONS[event]


@pytest.mark.parametrize("event", sorted(status.TRANSITIONS))
@pytest.mark.parametrize("current", STATUSES)
def test_every_move_follows_the_table(event, current):
    report = SimpleNamespace(status=current)
    allowed = status.TRANSITIONS[event]
    if current in allowed:
        assert status.move(report, event) is (allowed[current] != current)
        assert report.status == allowed[current]
    else:
        with pytest.raises(status.StatusRefused) as refused:
            status.move(report, event)
        assert refused.value.status == 409 and report.status == current


def test_no_other_code_assigns_a_status():
    """The table is the only way: no `x.status = ...` anywhere else in server/."""
    found = []
    for path in SERVER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                found.append(f"{path.relative_to(SERVER)}:{node.lineno}")
    assert all(place.startswith("reports/status.py:") for place in found), found
