"""A new version of the app takes over only when the user says so, and loses nothing."""
import re
import uuid

import pytest

from .conftest import wait_until
from .pages import installed_app, outbox, submit_report, wait_for_states

pytestmark = pytest.mark.browser

CACHE_NAMES = "async () => (await caches.keys()).sort()"


@pytest.fixture
def publish_new_version(server):
    """Change the served service worker's VERSION, as a deploy that bumps it does."""
    worker = server.webroot / "service-worker.js"
    original = worker.read_text()

    def publish():
        version = re.search(r"const VERSION = '([^']+)';", original).group(1)
        new = f"{version}-next"
        worker.write_text(original.replace(f"const VERSION = '{version}';", f"const VERSION = '{new}';"))
        return f"redflag-shell-{version}", f"redflag-shell-{new}"

    yield publish
    worker.write_text(original)


def test_new_version_waits_for_the_prompt_and_keeps_the_outbox(context, server, publish_new_version):
    tag = f"update-{uuid.uuid4().hex[:12]}"
    page = installed_app(context)
    # A report waiting to send: the network drops every sync.
    context.route("**/api/v1/sync", lambda route: route.abort("internetdisconnected"))
    submit_report(page, f"Followed me home. {tag}", types=("harassment_or_stalking",))
    wait_until(lambda: outbox(page)[0].get("reason") == "offline", message="a failed send")
    [queued] = outbox(page)

    old_cache, new_cache = publish_new_version()
    page.reload()  # the browser checks for a new worker on navigation
    page.wait_for_selector("html[data-ready]")
    prompt = page.get_by_role("button", name="Update now")
    prompt.wait_for()
    # Installed beside the old one, but the old version still runs the page.
    page.wait_for_function("async () => (await caches.keys()).length === 2")
    assert page.evaluate(CACHE_NAMES) == sorted([old_cache, new_cache])
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => Boolean(r.waiting))")

    # Another reload does not let it in either.
    page.reload()
    page.wait_for_selector("html[data-ready]")
    page.get_by_role("button", name="Update now").wait_for()
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => Boolean(r.waiting))")

    with page.expect_navigation():
        page.get_by_role("button", name="Update now").click()
    page.wait_for_selector("html[data-ready]")
    page.wait_for_function("async () => (await caches.keys()).length === 1")
    assert page.evaluate(CACHE_NAMES) == [new_cache]
    assert page.get_by_role("button", name="Update now").count() == 0
    assert [(item["id"], item["state"]) for item in outbox(page)] == [(queued["id"], "waiting")]

    context.unroute("**/api/v1/sync")
    page.goto("/reports")
    page.get_by_role("button", name="Send now").click()
    wait_for_states(page, ["sent"])
    assert server.report_ids(tag) == [queued["id"]]
