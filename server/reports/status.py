"""A report's status, and the one function that changes it.

The reporter sees these four through their receipt:

    received ──open/review/draft──► in_review ──publish──► published
        │                             │  ▲                     │
        └──────────reject─────────────┤  └──review── not_published ◄──withdraw──┘
                                      └──reject──────►

Every change goes through move(report, event): TRANSITIONS says, for each event, which
status it leads to from each status it is allowed in. An event from a status it does not
list is refused (409) with a code that says why. A report is stored `received`
(INITIAL) by the reports service.
"""
from ..errors import Refused

INITIAL = "received"


def _staying(*statuses):
    return {status: status for status in statuses}


# event -> {from status: to status}. An event not allowed from a status is absent here.
TRANSITIONS = {
    # A moderator opens the report: a new one goes into review, others stay as they are.
    "open": {"received": "in_review", **_staying("in_review", "published", "not_published")},
    # A moderator marks it in review, or reopens a rejected one.
    "review": {"received": "in_review", "in_review": "in_review", "not_published": "in_review"},
    # It is put in a draft alert (a rejected one never is: the draft is refused first).
    "draft": {"received": "in_review", **_staying("in_review", "published")},
    # A moderator rejects it: it will not be published.
    "reject": {"received": "not_published", "in_review": "not_published"},
    # An alert made from it went out (another one may have gone out already).
    "publish": {"in_review": "published", "published": "published"},
    # The last live alert made from it was retracted.
    "withdraw": {"published": "not_published"},
}

# Why an event is refused from a status: (code in server/errors.py, message).
REFUSALS = {
    ("review", "published"): ("report_in_published_alert",
                              "This report is in a published alert; it has been decided."),
    ("reject", "published"): ("report_in_published_alert",
                              "This report is in a published alert: retract the alert first."),
    ("reject", "not_published"): ("report_already_rejected", None),
}


class StatusRefused(Refused):
    """A report status change its current status does not allow (409)."""
    code = "report_status_refused"


def move(report, event):
    """Apply `event` (a key of TRANSITIONS) to the report's status. Returns True when the
    status changed, False when the event leaves it as it was. Raises StatusRefused when
    the event is not allowed from the current status; the report is then unchanged.
    Does not commit."""
    allowed = TRANSITIONS[event]
    if report.status not in allowed:
        code, message = REFUSALS.get((event, report.status), ("report_status_refused", None))
        raise StatusRefused(message or f"A report that is {report.status} cannot take '{event}'.",
                            code=code)
    target = allowed[report.status]
    changed = target != report.status
    report.status = target
    return changed
