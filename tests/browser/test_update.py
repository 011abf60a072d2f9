"""A new version of the app takes over only when the user says so, and loses nothing."""
import uuid

import pytest

from .pages import installed_app, outbox, submit_report, wait_for_states
from .support import wait_until

pytestmark = pytest.mark.browser

CACHE_NAMES = "async () => (await caches.keys()).sort()"


@pytest.fixture
def publish_new_version(server):
    """Change one file of the served app, as a deploy does: the server hashes the shell
    into the worker's version, so this alone makes a new worker and a new cache."""
    changed = "web/styles.css"
    original = (server.webroot / changed).read_text(encoding="utf-8")

    def publish():
        server.write_web_file(changed, original + "\n/* the next version */\n")

    yield publish
    server.write_web_file(changed, original)


def test_new_version_waits_for_the_prompt_and_keeps_the_outbox(context, server, publish_new_version):
    tag = f"update-{uuid.uuid4().hex[:12]}"
    page = installed_app(context)
    # A report waiting to send: the network drops every sync.
    context.route("**/api/v1/sync", lambda route: route.abort("internetdisconnected"))
    submit_report(page, f"Followed me home. {tag}", types=("harassment_or_stalking",))
    wait_until(lambda: outbox(page)[0].get("reason") == "offline", message="a failed send")
    [queued] = outbox(page)

    [old_cache] = page.evaluate(CACHE_NAMES)
    publish_new_version()
    page.reload()  # the browser checks for a new worker on navigation
    page.wait_for_selector("html[data-ready]")
    prompt = page.get_by_role("button", name="Update now")
    prompt.wait_for()
    # Installed beside the old one, but the old version still runs the page.
    page.wait_for_function("async () => (await caches.keys()).length === 2")
    [new_cache] = [name for name in page.evaluate(CACHE_NAMES) if name != old_cache]
    assert new_cache.startswith("redflag-shell-")
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
    # The new cache holds the changed file.
    assert "the next version" in page.evaluate(
        "async () => (await (await caches.match('/static/styles.css')).text())")
    assert page.get_by_role("button", name="Update now").count() == 0
    assert [(item["id"], item["state"]) for item in outbox(page)] == [(queued["id"], "waiting")]

    context.unroute_all(behavior="wait")  # not while a dropped try is still being answered
    page.goto("/reports")
    page.get_by_role("button", name="Send now").click()
    wait_for_states(page, ["sent"])
    assert server.report_ids(tag) == [queued["id"]]
