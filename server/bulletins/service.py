"""The paper bulletin: the live alerts of some areas, as members would see them.

Identifiers go through alerts.service.member_identifiers, like the members' feed: a
masked one is masked, a hidden one is never on paper (only a count of what is withheld).
"""
from ..accounts.service import record
from ..alerts import service as alerts
from ..alerts.models import SEVERITIES
from ..clock import utc, utcnow
from ..extensions import db


def bulletin_items(area_slugs=(), now=None):
    """The live alerts of these areas (all areas when none), most severe first and newest
    first within a severity, as plain dicts holding only what members may see."""
    found, _, _ = alerts.feed(area_slugs, now=now or utcnow())
    found = sorted(found, key=lambda alert: SEVERITIES.index(alert.severity))  # stable
    items = []
    for alert in found:
        shown, withheld = alerts.member_identifiers(alert)
        items.append({
            "title": alert.title,
            "summary": alert.summary,
            "severity": alert.severity,
            "incident_types": list(alert.incident_types or []),
            "areas": [area.name for area in alert.areas],
            "identifiers": shown,
            "withheld_identifiers": withheld,
            "published_on": utc(alert.published_at).date(),
        })
    return items


def print_bulletin(staff, area_slugs=(), now=None):
    """bulletin_items(), audited as `bulletin_printed` (target_id: how many alerts). Commits."""
    items = bulletin_items(area_slugs, now)
    record(staff, "bulletin_printed", "bulletin", len(items))
    db.session.commit()
    return items
