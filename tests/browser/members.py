"""The server side of the member tests: members, published and retracted alerts and push
subscriptions, made and read with the server's own service functions on the browser
test server's SQLite database (the server process reads the same file)."""
import json
import secrets
import subprocess
import uuid

from server.accounts.models import Member
from server.alerts import service as alerts
from server.alerts.models import Alert
from server.areas.service import area_by_slug
from server.extensions import db
from server.identifiers.service import index_alert
from server.push.models import Subscription
from server.security import hash_token

from .support import BIN, ROOT, wait_until

API = "/static/api.js"


def new_member(app):
    """A member token, as redeeming an invite gives one."""
    token = secrets.token_urlsafe(24)
    with app.app_context():
        db.session.add(Member(token_hash=hash_token(token)))
        db.session.commit()
    return token


def join(page, token):
    """Make this browser profile a member (as the Join screen does after redeeming)."""
    page.evaluate("async ([api, token]) => (await import(api)).setMemberToken(token)", [API, token])


def publish(app, areas, title=None, severity="dangerous", identifiers=(), summary=None):
    """Create and publish an alert (as moderation does: live, deliveries queued,
    identifiers indexed for checks). Returns its number: the app knows alerts by it."""
    title = title or f"Alert {uuid.uuid4().hex[:8]}"
    with app.app_context():
        alert = alerts.new_alert(
            title=title, summary=summary or f"{title}: took money at the door.", severity=severity,
            incident_types=["robbery"], areas=[area_by_slug(slug) for slug in areas],
            identifiers=list(identifiers))
        db.session.commit()
        alerts.publish(alert)
        index_alert(alert)
        db.session.commit()
        return alert.number


def alert_uuid(app, number):
    """The id of the alert with this number, as a string."""
    with app.app_context():
        return str(db.session.execute(db.select(Alert.id).filter_by(number=number)).scalar_one())


def retract(app, number):
    with app.app_context():
        alerts.retract(db.session.execute(db.select(Alert).filter_by(number=number)).scalar_one())
        db.session.commit()


def subscriptions(app, endpoint):
    """{endpoint: sorted area slugs} of the stored subscriptions with this endpoint."""
    with app.app_context():
        found = db.session.execute(
            db.select(Subscription).where(Subscription.endpoint == endpoint)).scalars().all()
        return {sub.endpoint: sorted(area.slug for area in sub.areas) for sub in found}


def run_push_worker(server):
    """`flask push worker --once` on the server's database, as production runs it."""
    done = subprocess.run([BIN / "flask", "push", "worker", "--once"], env=server.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


# --- The service worker through the DevTools protocol --------------------------------------

class ServiceWorkerDevTools:
    """Fires the real service worker's push handler (ServiceWorker.deliverPushMessage)."""

    def __init__(self, context, page, server):
        self.page = page
        self.origin = server.url
        self.session = context.new_cdp_session(page)
        found = {}

        def updated(event):
            for registration in event["registrations"]:
                if registration["scopeURL"] == f"{server.url}/" and not registration.get("isDeleted"):
                    found["id"] = registration["registrationId"]

        self.session.on("ServiceWorker.workerRegistrationUpdated", updated)
        self.session.send("ServiceWorker.enable")
        self.registration_id = wait_until(lambda: found.get("id"), page=page,
                                          message="the service worker registration")

    def push(self, payload):
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.session.send("ServiceWorker.deliverPushMessage", {
            "origin": self.origin, "registrationId": self.registration_id, "data": data})


def notifications(page):
    """What the service worker has shown: [{title, body, tag}]."""
    return page.evaluate("""async () => (await (await navigator.serviceWorker.ready).getNotifications())
        .map((n) => ({title: n.title, body: n.body, tag: n.tag}))""")


def stored_alert(page, alert_id):
    return page.evaluate("async (id) => (await import('/static/db.js')).get('alerts', id)", alert_id)
