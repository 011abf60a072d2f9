"""The one way tests wait for something another process or the browser does."""
import time


def wait_until(check, timeout=10.0, message="condition", *, page=None, interval=0.05):
    """Poll check() every `interval` seconds until it returns something truthy, and return
    that. AssertionError after `timeout` seconds, naming `message` (a str, or a callable
    returning one, called only on failure: it may describe the state that was waited on).
    Pass the Playwright `page` when check() reads what Playwright event handlers record:
    they run only while Playwright waits, so the pause between polls is spent in the page."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            said = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout} s waiting for {said}")
        if page is not None:
            page.wait_for_timeout(interval * 1000)
        else:
            time.sleep(interval)
