"""One error vocabulary: every error body carries a stable `error` code from one table."""
import ast
import re
from pathlib import Path

import pytest

from server import errors
from server.errors import CODES, DomainError, Refused

SERVER = Path(__file__).resolve().parents[2] / "server"
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def test_codes_are_snake_case_with_a_status_and_a_message():
    for code, (status, message) in CODES.items():
        assert SNAKE.match(code), code
        assert 400 <= status < 600 and message.strip(), code
    assert set(errors.BY_STATUS.values()) <= set(CODES)
    assert all(CODES[code][0] == status for status, code in errors.BY_STATUS.items())


def _codes_named_in_server():
    """Every literal `code="..."` in server/ (a raise site) and every class-level code."""
    named = set()
    for path in SERVER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "code" \
                    and isinstance(node.value, ast.Constant):
                named.add((path.name, node.value.value))
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if (isinstance(item, ast.Assign) and len(item.targets) == 1
                            and getattr(item.targets[0], "id", None) == "code"
                            and isinstance(item.value, ast.Constant)
                            and isinstance(item.value.value, str)):
                        named.add((path.name, item.value.value))
    return named


def test_every_code_raised_is_in_the_table():
    # An unknown code fails at raise time; this finds one on a path no test walks.
    unknown = {(name, code) for name, code in _codes_named_in_server() if code not in CODES}
    assert not unknown


def test_an_unknown_code_is_refused_at_once():
    with pytest.raises(ValueError):
        Refused(code="no_such_code")
    assert Refused(code="alert_is_draft").status == 409


def test_unknown_url_and_method(client):
    body = client.get("/api/v1/nothing-here").get_json()
    assert body["code"] == 404 and body["status"] == "Not Found" and body["error"] == "not_found"
    assert client.delete("/api/v1/areas").get_json()["error"] == "method_not_allowed"


def test_validation_error_has_field_errors_and_a_code(client):
    response = client.post("/api/v1/reports", json={"unexpected": 1})
    body = response.get_json()
    assert response.status_code == 422
    assert body["error"] == "invalid" and body["code"] == 422
    assert "unexpected" in body["errors"]["json"]


def test_domain_error_body(client):
    response = client.get("/api/v1/alerts")
    body = response.get_json()
    assert response.status_code == 401
    assert body == {"code": 401, "status": "Unauthorized", "error": "member_required",
                    "message": CODES["member_required"][1]}


def test_field_errors_of_a_domain_error(app):
    status, body = None, None
    with app.test_request_context():
        body, status, _headers = errors.handle_domain_error(
            DomainError(code="unknown_area", errors={"areas": ["Unknown area: x."]}))
    assert status == 422 and body["errors"] == {"json": {"areas": ["Unknown area: x."]}}


def test_unexpected_error_is_a_generic_500(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    body = app.test_client().get("/boom").get_json()
    assert body["code"] == 500 and body["error"] == "internal_error"
    assert "secret" not in str(body)
