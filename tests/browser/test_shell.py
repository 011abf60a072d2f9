"""The app shell: the service worker installs, and the whole app works offline."""

import pytest
import requests

from .pages import installed_app, open_app
from .support import wait_until

pytestmark = pytest.mark.browser

SCREENS = {"/report": "Report a bad client", "/reports": "My reports", "/join": "Join",
           "/settings": "Settings"}


def test_offline_reload_shows_the_whole_app(context):
    page = installed_app(context)
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("html[data-ready]")
    assert page.locator("h1").inner_text() == "Report a bad client"
    # Every screen, by the tab bar and by its own address, from the cache.
    for path, title in SCREENS.items():
        page.locator(f"nav a[href='{path}']").click()
        page.wait_for_function("(title) => document.querySelector('h1')?.textContent === title", arg=title)
        page.goto(path)
        page.wait_for_selector("html[data-ready]")
        assert page.locator("h1").inner_text() == title
    # The stylesheet and the icons came from the cache too.
    assert page.evaluate("getComputedStyle(document.querySelector('.bar')).display") == "flex"
    assert page.evaluate("""async () => (await fetch('/static/icons/icon-192.png')).ok""")


# Each icon of the page: its <use>'s target, whether that is a symbol of the page's hidden
# sprite, whether the icon is shown, and the size of what it draws (0 x 0: nothing found).
ICONS = """() => [...document.querySelectorAll('svg.icon use')].map((use) => {
    const href = use.getAttribute('href');
    const symbol = href.startsWith('#') ? document.getElementById(href.slice(1)) : null;
    const box = use.getBBox();
    return {href, symbol: symbol?.localName ?? null,
            inSprite: Boolean(symbol?.closest('svg[display="none"][aria-hidden="true"]')),
            shown: use.closest('svg').checkVisibility(), drawn: box.width > 0 && box.height > 0};
})"""


def test_the_first_screen_draws_its_icons_from_the_page(context):
    """server/web.py writes the icons' symbols into the page and web/dom.js icon() points
    at them: the report screen's icons each find their symbol and draw it, and no request
    for the sprite file is made while the first screen loads (a fetch per icon and a
    second SVG document cost a slow phone tens of milliseconds before the form was usable).
    The Content-Security-Policy lets the inline sprite be (the watcher fixture fails the
    test on any violation)."""
    asked = []
    context.on("request", lambda request: asked.append(request.url))
    page = installed_app(context, "/report")
    page.wait_for_selector("input[name='incident_types']")
    icons = page.evaluate(ICONS)
    assert [icon for icon in icons if icon["symbol"] != "symbol" or not icon["inSprite"]] == []
    # The tab bar's and the incident types' icons, at least.
    assert len(icons) >= 20
    assert {"#icon-report", "#icon-settings", "#icon-robbery"} <= {icon["href"] for icon in icons}
    shown = [icon for icon in icons if icon["shown"]]
    assert len(shown) >= 16 and [icon for icon in shown if not icon["drawn"]] == []
    assert [url for url in asked if "icons.svg" in url] == []


def test_network_only_screens_say_offline_that_they_need_a_connection(context):
    """Screens that need the server anyway (network=True in server/web.py SCREENS) are not in
    the shell: offline, their module cannot load, and the screen says so in the app's words."""
    page = installed_app(context)
    context.set_offline(True)
    for path, title, text in [
        ("/dispute", "Object to a warning", "No connection. Please try again when you are online."),
        ("/staff/queue", "Staff", "No connection. Staff screens need one"),
    ]:
        page.goto(path)
        page.wait_for_selector("html[data-ready]")
        page.wait_for_function("(title) => document.querySelector('h1')?.textContent === title", arg=title)
        assert page.locator("main .problems").inner_text().startswith(text)


def test_a_first_open_fills_the_form_from_the_page_then_from_the_api(context, server):
    """server/web.py writes the areas into the page: the report form is filled before (and
    without) an answer from /api/v1/areas; the app's own fetch then replaces the page's
    list in the form and keeps it on the device. One request serves the form and the app."""
    held = []
    context.route("**/api/v1/areas", lambda route: held.append(route))
    page = open_app(context, "/report")
    page.wait_for_selector("select[name='area'] option[value='hackney']", state="attached")
    wait_until(lambda: held, page=page, message="the app to ask for the areas")
    kept = "async () => (await (await import('/static/db.js')).get('kv', 'areas'))?.list.map((a) => a.slug)"
    assert page.evaluate(kept) is None
    fresh = requests.get(f"{server.url}/api/v1/areas", timeout=5).json()
    fresh.append({**fresh[0], "slug": "fresh-area", "name": "Fresh area"})
    held[0].fulfill(json=fresh)
    page.wait_for_selector("select[name='area'] option[value='fresh-area']", state="attached")
    wait_until(lambda: "fresh-area" in (page.evaluate(kept) or []), page=page, message="the list kept")
    assert len(held) == 1


@pytest.mark.parametrize("offline", [False, True])
def test_the_report_screen_comes_from_the_bundle_with_no_request_of_its_own(context, offline):
    """The router's import() of the first screen is answered from the bundle
    (server/bundle.py): the form is drawn with no request for the screen's own address,
    online or offline; importing that address later gives the same module instance."""
    installed_app(context).close()
    context.set_offline(offline)
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url.split("/", 3)[3]))
    page.goto("/report")
    page.wait_for_selector("html[data-ready]")
    page.wait_for_selector("textarea")
    assert "static/first-screen.js" in requested
    assert "static/screens/report.js" not in requested, requested
    assert page.evaluate("""async () => {
        const own = await import('/static/screens/report.js');
        const bundle = await import('/static/first-screen.js');
        return Object.values(bundle).some((made) => made().render === own.render);
    }""")


def test_api_is_never_cached(context, server):
    page = installed_app(context)
    page.evaluate("fetch('/api/v1/areas').then((r) => r.json())")
    cached = page.evaluate("""async () => {
        const urls = [];
        for (const key of await caches.keys()) {
            for (const request of await (await caches.open(key)).keys()) urls.push(request.url);
        }
        return urls;
    }""")
    assert cached and not [url for url in cached if "/api/" in url]
    context.set_offline(True)
    assert page.evaluate("fetch('/api/v1/areas').then(() => 'answered', () => 'failed')") == "failed"


def test_manifest_makes_it_installable(server):
    manifest = requests.get(f"{server.url}/manifest.json", timeout=5)
    assert manifest.headers["Content-Type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["start_url"] == "/" and body["scope"] == "/" and body["display"] == "standalone"
    assert body["name"] and body["short_name"] and body["theme_color"]
    icons = {(icon["sizes"], icon["purpose"]): icon["src"] for icon in body["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= set(icons)
    for (sizes, _), src in icons.items():
        png = requests.get(server.url + src, timeout=5)
        assert png.headers["Content-Type"] == "image/png"
        width = int.from_bytes(png.content[16:20], "big")
        height = int.from_bytes(png.content[20:24], "big")
        assert f"{width}x{height}" == sizes


def test_screens_fit_a_small_phone(new_context):
    context = new_context(viewport={"width": 320, "height": 640})
    page = open_app(context)
    for path in SCREENS:
        page.goto(path)
        page.wait_for_selector("html[data-ready]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
        # Every control is at least 44 px tall: usable with a thumb.
        small = page.evaluate("""() => [...document.querySelectorAll(
                'button, a.button, nav a, select, input[type=text], input[type=date], .chip span')]
            .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
            .map((el) => el.outerHTML.slice(0, 80))""")
        assert small == [], path
