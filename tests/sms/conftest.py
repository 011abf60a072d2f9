"""Text-message fixtures: staff, text members, alerts, texts coming in through the
gateway route, and what the sender would hand over (read from the durable rows)."""
import pytest

from api.staff import StaffClient
from server.alerts import service as alerts
from server.areas.service import area_by_slug
from server.extensions import db
from server.sms import service
from server.sms.models import SmsDelivery

SECRET = "test-gateway-secret-0123456789abcdef"
DEMO_NUMBER = "07700 900123"


@pytest.fixture
def app_config(database_url):
    return {"PASSWORD_HASH_FAST": True, "SMS_GATEWAY": "kannel", "SMS_GATEWAY_SECRET": SECRET,
            "SMS_KANNEL_PASSWORD": "kannel-test-password", "SMS_PROJECT_NAME": "Redflag"}


@pytest.fixture
def outreach(app):
    return StaffClient(app, "van", "outreach")


@pytest.fixture
def moderator(app):
    return StaffClient(app, "mod", "moderator")


def enrol(phone, areas=("hackney",), language="en", style="neutral"):
    return service.enrol(None, phone, list(areas), language, style)


def publish(areas=("hackney",), identifiers=(), title="Man posing as police",
            summary="Took money at the door.", severity="dangerous"):
    alert = alerts.new_alert(title=title, summary=summary, severity=severity,
                             incident_types=["posing_as_police", "robbery"],
                             areas=[area_by_slug(slug) for slug in areas],
                             identifiers=list(identifiers))
    db.session.commit()
    alerts.publish(alert)
    from server.identifiers.service import index_alert
    index_alert(alert)
    db.session.commit()
    return alert


def text_in(client, sender, text, secret=SECRET):
    """A text that came in, as Kannel's post-url delivers it."""
    return client.post(f"/api/v1/sms/kannel/incoming?secret={secret}", data=text.encode(),
                       headers={"X-Kannel-From": sender,
                                "Content-Type": 'text/plain; charset="UTF-8"'})


def queued(kind=None):
    """[(SmsDelivery, text to send or None)] in id order."""
    query = db.select(SmsDelivery).order_by(SmsDelivery.id)
    if kind:
        query = query.filter_by(kind=kind)
    db.session.expire_all()
    return [(row, service.decrypt(row.text_encrypted) if row.text_encrypted else None)
            for row in db.session.execute(query).scalars()]


def last_reply():
    replies = queued("reply")
    return replies[-1][1] if replies else None
