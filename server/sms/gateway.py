"""The seam between Redflag and an SMS gateway.

A gateway has three parts:
    send(to, text, ref) -> id    hand one text over (to: E.164; ref: our reference, which
                                 the gateway's delivery reports carry back); raises
                                 GatewayError when the gateway did not take it
    incoming(request) -> (from, text)       a text that came in (the incoming route)
    report(request) -> (ref, outcome)       a delivery report (the report route)

Supported: Kannel (Debian's `kannel` package), through smsbox's sendsms HTTP interface,
an sms-service post-url (or get-url) and dlr-url. Another gateway (an HTTP SMS provider,
an Android phone acting as gateway) is another class here and a name in GATEWAYS.
"""
import http.client
from urllib.parse import quote, urlencode, urlsplit

from .texts import segments


class GatewayError(Exception):
    """The gateway did not take the text (its answer, or the network error, as text)."""


class BadCallback(ValueError):
    """An incoming text or delivery report the gateway sent in a shape we cannot read."""


# Kannel's dlr-url %d: what happened to the text.
KANNEL_REPORTS = {1: "delivered", 2: "undelivered", 4: "queued", 8: "accepted", 16: "rejected"}


class Kannel:
    """Kannel's smsbox: GET /cgi-bin/sendsms answers 202 "0: Accepted for delivery" (or
    "3: Queued for later delivery"); anything else is an error."""
    name = "kannel"

    def __init__(self, config):
        self.url = urlsplit(config["SMS_KANNEL_SENDSMS_URL"])
        self.username = config["SMS_KANNEL_USERNAME"]
        self.password = config["SMS_KANNEL_PASSWORD"]
        self.sender = config["SMS_FROM"]
        self.timeout = config["SMS_TIMEOUT_SECONDS"]
        callback = config["SMS_CALLBACK_URL"].rstrip("/")
        self.report_url = (f"{callback}/api/v1/sms/kannel/report?secret="
                           f"{quote(config['SMS_GATEWAY_SECRET'], safe='')}" if callback else None)

    def query(self, to, text, ref):
        encoding, _ = segments(text)
        params = {"username": self.username, "password": self.password, "to": to,
                  "text": text, "charset": "UTF-8",
                  # 2: UCS-2, for text outside the GSM alphabet; 0: GSM 7-bit.
                  "coding": "2" if encoding == "UCS-2" else "0"}
        if self.sender:
            params["from"] = self.sender
        if self.report_url:
            # Kannel fills %d with the report type: 1 delivered, 2 undelivered, 8 taken
            # by the operator, 16 refused by it.
            params["dlr-mask"] = "27"
            params["dlr-url"] = f"{self.report_url}&ref={ref}&status=%d"
        return f"{self.url.path or '/cgi-bin/sendsms'}?{urlencode(params)}"

    def send(self, to, text, ref):
        # A new connection per text: a kept-alive one that breaks mid-request leaves it
        # unknown whether Kannel took the text, and a blind resend would double it.
        connection_class = (http.client.HTTPSConnection if self.url.scheme == "https"
                            else http.client.HTTPConnection)
        connection = connection_class(self.url.hostname, self.url.port, timeout=self.timeout)
        try:
            connection.request("GET", self.query(to, text, ref))
            response = connection.getresponse()
            answer = response.read(200).decode("utf-8", "replace").strip()
        except (OSError, http.client.HTTPException) as error:
            raise GatewayError(f"network: {type(error).__name__}") from None
        finally:
            connection.close()
        if response.status in (200, 202) and answer[:2] in ("0:", "3:"):
            return ref
        raise GatewayError(f"HTTP {response.status}: {' '.join(answer.split())[:120]}")

    @staticmethod
    def incoming(request):
        """post-url (send-sender = true): the text is the body, the sender X-Kannel-From;
        get-url: ?from=%p&text=%a."""
        sender = request.headers.get("X-Kannel-From") or request.args.get("from")
        if request.method == "POST":
            charset = request.mimetype_params.get("charset", "utf-8")
            try:
                text = request.get_data().decode(charset)
            except (LookupError, UnicodeDecodeError):
                raise BadCallback("The text is not in the charset it names.") from None
        else:
            text = request.args.get("text")
        if not sender or text is None:
            raise BadCallback("An incoming text needs a sender and a text.")
        return sender, text

    @staticmethod
    def report(request):
        ref = request.args.get("ref", "")
        try:
            outcome = KANNEL_REPORTS[int(request.args.get("status", ""))]
        except (KeyError, ValueError):
            raise BadCallback("status must be 1, 2, 4, 8 or 16.") from None
        if not ref or len(ref) > 32:
            raise BadCallback("ref is missing or too long.")
        return ref, outcome


GATEWAYS = {"kannel": Kannel}


def gateway_for(config):
    """The configured gateway, or None when SMS_GATEWAY is empty."""
    name = config.get("SMS_GATEWAY")
    if not name:
        return None
    if name not in GATEWAYS:
        raise ValueError(f"SMS_GATEWAY must be one of: {', '.join(GATEWAYS)}")
    return GATEWAYS[name](config)
