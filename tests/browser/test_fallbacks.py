"""What the app says where a browser lacks a feature (the engines themselves are driven in
tests/engines): on an iPhone, notifications need the app on the Home Screen; Chromium has
Background Sync, so My reports does not tell it to keep the app open."""
import pytest

from .members import join, new_member
from .pages import installed_app, submit_report

pytestmark = pytest.mark.browser

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1")
HOME_SCREEN = "On an iPhone, notifications work only when this app is on your Home Screen"


def test_iphone_settings_explain_the_home_screen_before_offering_notifications(new_context, server_app):
    page = installed_app(new_context(user_agent=IPHONE, is_mobile=True, has_touch=True))
    join(page, new_member(server_app))
    page.goto("/settings")
    section = page.locator("section[aria-labelledby='set-notifications']")
    section.get_by_text(HOME_SCREEN).wait_for()
    assert section.get_by_text("Add to Home Screen").is_visible()
    assert section.get_by_role("button", name="Turn on notifications").count() == 0


def test_other_phones_are_offered_notifications_without_the_home_screen_text(context, server_app):
    page = installed_app(context)
    join(page, new_member(server_app))
    page.goto("/settings")
    section = page.locator("section[aria-labelledby='set-notifications']")
    section.get_by_role("button", name="Turn on notifications").wait_for()
    assert section.get_by_text(HOME_SCREEN).count() == 0


def test_with_background_sync_my_reports_does_not_ask_to_keep_the_app_open(context):
    page = installed_app(context)
    assert page.evaluate("'SyncManager' in self")
    context.set_offline(True)
    submit_report(page, "Waited by the car park.")
    page.get_by_text("1 report waiting to send").wait_for()
    assert page.locator(".no-background-sync").is_hidden()
