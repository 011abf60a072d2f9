"""What a person does in the app, as small functions the browser tests share."""
import uuid
from datetime import date

from .support import wait_until

OUTBOX = "/static/outbox.js"

# Every object store of every IndexedDB database of the page, and every cached URL.
DEVICE_STORAGE = """async () => {
    const found = {};
    for (const {name} of await indexedDB.databases()) {
        const db = await new Promise((ok, fail) => {
            const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
        });
        for (const store of db.objectStoreNames) {
            const tx = db.transaction(store);
            const [keys, values] = await Promise.all(['getAllKeys', 'getAll'].map((how) => new Promise((ok) => {
                const r = tx.objectStore(store)[how](); r.onsuccess = () => ok(r.result);
            })));
            found[`${name}/${store}`] = {keys, values};
        }
        db.close();
    }
    const cached = [];
    for (const key of await caches.keys()) {
        for (const request of await (await caches.open(key)).keys()) cached.push(request.url);
    }
    return {found, cached};
}"""


def open_app(context, path="/"):
    page = context.new_page()
    page.goto(path)
    page.wait_for_selector("html[data-ready]")
    return page


def wait_for_service_worker(page):
    """Until the page is controlled, the shell is in the cache, and the areas are stored."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function("""async () => {
        const keys = await caches.keys();
        return keys.some((k) => k.startsWith('redflag-shell-'));
    }""")
    page.wait_for_function("async () => Boolean(await (await import('/static/db.js')).get('kv', 'areas'))")


def installed_app(context, path="/"):
    page = open_app(context, path)
    wait_for_service_worker(page)
    return page


def outbox(page):
    """The device's report items, as the app's own outbox module lists them."""
    return page.evaluate(f"async () => (await import('{OUTBOX}')).list()")


def states(page):
    return sorted(item["state"] for item in outbox(page))


def fill_report(page, description, types=("robbery",), area="hackney"):
    """Fill the report form as a person would: pickers, then typing."""
    page.goto("/report")
    page.wait_for_selector("html[data-ready]")
    for incident in types:
        page.locator(f"input[name='incident_types'][value='{incident}']").check()
    page.get_by_label("Tell us what happened").fill(description)
    page.locator("select[name='area']").select_option(area)
    # Nothing is chosen for the reporter: both consent questions need an answer.
    page.locator("input[name='publish'][value='yes']").check()
    page.locator("input[name='police'][value='none']").check()


def submit_report(page, description, **kwargs):
    fill_report(page, description, **kwargs)
    page.get_by_role("button", name="Save and send").click()
    page.wait_for_url("**/reports?saved=1")


def report_payload(marker, **overrides):
    """A valid report of the API contract, as the app would make it."""
    report = {
        "id": str(uuid.uuid4()),
        "occurred_on": date.today().isoformat(),
        "area": "camden",
        "incident_types": ["theft"],
        "description": f"Took my phone. {marker}",
        "consent": {"publish": True, "police": "none"},
    }
    report.update(overrides)
    return report


def put_in_outbox(page, *reports):
    page.evaluate("""async ([module, reports]) => {
        const outbox = await import(module);
        for (const report of reports) await outbox.save(report);
    }""", [OUTBOX, list(reports)])


def flush(page):
    return page.evaluate(f"async () => (await import('{OUTBOX}')).flush()")


def wait_for_states(page, expected, timeout=10):
    wait_until(lambda: states(page) == sorted(expected), timeout=timeout,
               message=f"outbox states {sorted(expected)}")


LAPTOP = {"width": 1280, "height": 900}
MODERATOR = ("demo-moderator", "redflag-demo-moderator")


def log_in(page, note=None):
    """Log in on the staff login screen as the demo moderator."""
    page.wait_for_selector("form.login-form")
    if note:
        page.get_by_text(note).wait_for()
    page.get_by_label("Username").fill(MODERATOR[0])
    page.get_by_label("Password").fill(MODERATOR[1])
    page.get_by_role("button", name="Log in").click()
