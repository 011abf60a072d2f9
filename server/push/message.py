"""What goes on the wire for one delivery: the small payload, encrypted for the device
(aes128gcm, by pywebpush), and the Web Push headers."""
import json

from pywebpush import WebPusher

from ..clock import utc


def payload(alert, area):
    """The plaintext, as bytes: {"number": n, "alert": id, "area": slug, "severity": ...}.
    Small on purpose: the device picks the words and fetches the alert when tapped. The
    app knows alerts by number; the id is for service workers from before alert numbers
    (an app keeps its worker until its user takes the update)."""
    return json.dumps({"number": alert.number, "alert": str(alert.id), "area": area,
                       "severity": alert.severity}, separators=(",", ":")).encode()


def request(job, data, now, authorization, ttl):
    """(body, headers) of the POST that hands `data` (the payload bytes) for this Job to
    its push service. authorization: the VAPID header for the endpoint's origin; ttl:
    seconds the push service keeps it for an offline device, cut to the alert's expiry."""
    alert = job.alert
    info = {"endpoint": job.endpoint, "keys": {"p256dh": job.p256dh, "auth": job.auth}}
    body = WebPusher(info).encode(data, "aes128gcm")["body"]
    if alert.expires_at is not None:
        ttl = max(0, min(ttl, int((utc(alert.expires_at) - now).total_seconds())))
    headers = {
        "Authorization": authorization,
        "TTL": str(ttl),
        "Urgency": "high" if alert.severity == "dangerous" else "normal",
        # The alert id (32 hex characters): a newer copy replaces one still waiting.
        "Topic": alert.id.hex,
        "Content-Type": "application/octet-stream",
        "Content-Encoding": "aes128gcm",
    }
    return body, headers
