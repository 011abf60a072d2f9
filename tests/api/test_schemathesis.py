"""schemathesis over /api/v1/openapi.json (issue 9): every operation, as a member and as a
moderator, on both engines, with valid and invalid input drawn from the document: no
5xx, and no response the document does not describe.

Bounded: EXAMPLES per operation and generation mode (the suite's budget; raise it with
REDFLAG_FUZZ_EXAMPLES for a longer hunt). Deterministic (derandomize), so a failure
found here is found again by the next run.
"""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from server.extensions import db

from .hostile import make_world

EXAMPLES = int(os.environ.get("REDFLAG_FUZZ_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Operations that end the caller's own session or make staff-only secrets: run last or
# with a fresh world, so they do not starve the others of a logged-in caller.
LAST = ("/api/v1/staff/logout",)


@pytest.fixture
def app_config(tmp_path):
    from server.push.vapid import create_key
    key = tmp_path / "vapid_private.pem"
    create_key(key)
    return {"PASSWORD_HASH_FAST": True, "RATELIMIT_ENABLED": False,
            "VAPID_PRIVATE_KEY_FILE": str(key)}


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda op: (op.path in LAST, op.path, op.method))


def fuzz(operation, mode, ids, client, headers, failures):
    """Send EXAMPLES cases of one operation; what fails goes into `failures`."""
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=ids or None))
    def run(case):
        try:
            response = case.call(session=client, headers=headers)
            case.validate_response(response, checks=CHECKS)
        except Exception as error:
            # schemathesis reports a broken rule as an AssertionError; anything else
            # escaped the app (with TESTING on, a 500 raises in the test client).
            first = (str(error).strip().splitlines() or [""])[0]
            failures.append(f"{case.method} {case.path} ({mode.value}): "
                            f"{type(error).__name__}: {first[:200]}")
        finally:
            db.session.remove()  # each request of a real server has its own session

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to vary (an operation without input has no invalid case)
    except Exception as error:
        failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): "
                        f"{type(error).__name__}: {str(error).strip()[:300]}")


@pytest.mark.parametrize("role", ["member", "moderator"])
def test_the_api_keeps_its_document(app, role):
    world = make_world(app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    client = world.staff_client if role == "moderator" else app.test_client()
    headers = world.moderator if role == "moderator" else world.member
    known = {"alert_id": world.alert_id, "report_id": world.report_id,
             "subscription_id": world.subscription_id, "member_id": world.member_id}
    failures = []
    for operation in operations(schema):
        names = {p.name for p in operation.path_parameters}
        # Valid input with real ids (the request reaches the record), then invalid input
        # of every kind (made-up and malformed ids among it).
        fuzz(operation, GenerationMode.POSITIVE, {k: v for k, v in known.items() if k in names},
             client, headers, failures)
        fuzz(operation, GenerationMode.NEGATIVE, None, client, headers, failures)
    assert not failures, "\n".join(sorted(set(failures)))
