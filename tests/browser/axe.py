"""axe-core (from npm), run in the page: the serious and critical accessibility problems."""
import pytest

from .support import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page):
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make node`")
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        # Evaluated through DevTools: the page's CSP (rightly) refuses an injected <script>.
        page.evaluate(AXE.read_text())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], [node["target"] for node in v["nodes"]][:3])
            for v in results["violations"] if v["impact"] in ("serious", "critical")]
