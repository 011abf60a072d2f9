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


# Other records have a status of their own, each changed in one place by its own package:
# a case's (cases.service._move) and a dispute's (disputes.service.decide).
OWN_STATUS = {"cases/service.py": "case", "disputes/service.py": "dispute"}


def test_no_other_code_assigns_a_status():
    """The table is the only way: no `x.status = ...` anywhere else in server/."""
    found = []
    for path in SERVER.rglob("*.py"):
        place = str(path.relative_to(SERVER))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                if not (isinstance(target, ast.Attribute) and target.attr == "status"):
                    continue
                if OWN_STATUS.get(place) == getattr(target.value, "id", None):
                    continue
                found.append(f"{place}:{node.lineno}")
    assert all(place.startswith("reports/status.py:") for place in found), found
    counts = {place: sum(
        1 for node in ast.walk(ast.parse((SERVER / place).read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "status" for t in node.targets))
        for place in OWN_STATUS}
    assert counts == {place: 1 for place in OWN_STATUS}, counts
