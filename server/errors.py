"""One error vocabulary: what the services raise, and the one JSON body every error gets.

Every error answer of the API has this shape (flask-smorest's, plus `error`):

    {"code": 409,                     # the HTTP status, as a number
     "status": "Conflict",            # its reason phrase
     "error": "alert_not_draft",      # stable, machine-readable: the app translates this
     "message": "...",                # English, for developers; never shown as is
     "errors": {"json": {...}}}       # optional: field errors, by location then field

`code` was already the HTTP status in the body the app and the tests read, so the
stable machine-readable code travels as `error`. Every value `error` can take is a key
of CODES below, with its HTTP status and the default developer message: this table is
the list the app's translations must cover. A code, once shipped, never changes meaning.

Services raise DomainError subclasses (Refused, Invalid, NotFound, ...) with a code
from CODES; views add nothing. `register(app)` installs the one handler that turns
them, werkzeug's HTTP errors (abort(), 404 for an unknown URL, 413, 429) and
marshmallow's 422s into the body above.
"""
from flask import current_app
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

# code -> (HTTP status, default developer message). Sorted by status, then by name.
CODES = {
    # 400
    "bad_request": (400, "The request could not be understood."),
    "totp_code_wrong": (400, "That code is not right; check the time on your phone and try again."),
    "totp_not_started": (400, "Start with /api/v1/staff/totp/setup."),
    "sms_callback_bad": (400, "The gateway's callback is missing a part or is malformed."),
    # 401
    "unauthorized": (401, "Log in or send a member token."),
    "login_failed": (401, "Wrong username or password."),
    "login_otp_required": (401, "Enter the six-digit code from your authenticator app."),
    "member_required": (401, "Members only: redeem an invite code first."),
    "member_token_invalid": (401, "This device is not (or no longer) a member."),
    "members_only_reports": (401, "This service takes reports from members only."),
    "staff_login_required": (401, "Please log in."),
    # 403
    "forbidden": (403, "Not allowed."),
    "csrf_failed": (403, "Missing or wrong X-CSRF-Token header."),
    "role_required": (403, "This needs a higher staff role."),
    "staff_route_undeclared": (403, "This staff route declares no access rule."),
    "sms_gateway_secret_wrong": (403, "Wrong or missing secret."),
    "sms_member_not_yours": (403, "Only a moderator can change a text member someone else "
                                  "enrolled."),
    "member_not_yours": (403, "Only a moderator can revoke a member who joined with another "
                              "staff member's invite."),
    # 404
    "not_found": (404, "Nothing here."),
    "alert_not_found": (404, "No alert with this id."),
    "case_not_found": (404, "No case with this id."),
    "dispute_not_found": (404, "No dispute with this id and receipt."),
    "invite_not_valid": (404, "This code is not valid: it may be mistyped, used or expired. "
                              "Ask for a new one."),
    "live_alert_not_found": (404, "No live alert with this id."),
    "member_not_found": (404, "No such member."),
    "receipt_not_found": (404, "No report with this id and receipt."),
    "reference_not_found": (404, "No shareable report has this police reference."),
    "report_not_found": (404, "No report with this id."),
    "subscription_not_found": (404, "No such subscription on this device's account."),
    "sms_gateway_unknown": (404, "No such SMS gateway here."),
    "sms_member_not_found": (404, "No such text member."),
    # 405
    "method_not_allowed": (405, "This method is not allowed here."),
    # 409
    "conflict": (409, "The current state does not allow this."),
    "account_exists": (409, "There is already a staff account with this name."),
    "alert_already_published": (409, "This alert is already published."),
    "alert_already_retracted": (409, "This alert is already retracted."),
    "alert_expired": (409, "This alert's expiry time has passed: change expires_at first."),
    "alert_is_draft": (409, "This alert is a draft: delete it instead."),
    "alert_not_draft": (409, "This alert is not a draft any more."),
    "alert_without_reports": (409, "An alert is published from at least one report."),
    "case_closed": (409, "This case is closed."),
    "case_not_open": (409, "No one from the project is following up this report."),
    "dispute_decided": (409, "This dispute has been decided already."),
    "invite_code_taken": (409, "That invite code exists already."),
    "report_conflict": (409, "A different report with this id was already received."),
    "report_in_published_alert": (409, "This report is in a published alert."),
    "report_not_linked": (409, "This report is not linked to another."),
    "report_no_publish_consent": (409, "The reporter asked for this report not to be published."),
    "report_rejected": (409, "This report was rejected."),
    "report_status_refused": (409, "A report cannot move to this status from its current one."),
    "report_already_rejected": (409, "This report is already rejected."),
    "too_many_subscriptions": (409, "Too many devices on this account: remove one first."),
    "sms_member_wiped": (409, "This text member was wiped."),
    "sms_number_enrolled": (409, "This number is already enrolled for texts."),
    "totp_already_on": (409, "A second factor is already on for this account."),
    # 413
    "too_large": (413, "The request body is too large."),
    # 415: a body that is not JSON (server/serving.py)
    "unsupported_media_type": (415, "Send the body as JSON, with Content-Type: application/json."),
    # 414, 417, 431: answered by gunicorn itself (server/serving.py)
    "uri_too_long": (414, "The request line is too long."),
    "expectation_failed": (417, "Expectation failed."),
    "headers_too_large": (431, "The request headers are too large."),
    # 422
    "invalid": (422, "Some fields are not valid."),
    "account_invalid": (422, "The account details are not valid."),
    "not_an_identifier": (422, "This does not look like an identifier of that kind."),
    "phone_not_one_number": (422, "Type one phone number, in digits."),
    "unknown_area": (422, "Unknown area: choose from GET /api/v1/areas."),
    # 429
    "rate_limited": (429, "Too many requests. Try again later."),
    "login_throttled": (429, "Too many login attempts. Wait a few minutes and try again."),
    # 500
    "internal_error": (500, "Something went wrong. Nothing was lost; please try again."),
    "not_implemented": (501, "Not implemented."),
    # 503
    "unavailable": (503, "The service is not available just now."),
    "push_not_set_up": (503, "Push is not set up on this server yet (flask push keys)."),
}

# The code of a plain HTTP error (abort(404), an unknown URL, a body over the limit).
BY_STATUS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 414: "uri_too_long",
    415: "unsupported_media_type",
    417: "expectation_failed", 422: "invalid", 429: "rate_limited", 431: "headers_too_large",
    500: "internal_error", 501: "not_implemented", 503: "unavailable",
}


class DomainError(Exception):
    """An answer the service gives instead of a result. `code` is a key of CODES; the
    HTTP status comes with it. `errors`: field errors {field: [messages]}, sent under
    `errors[location]`; `headers`: extra response headers (Retry-After)."""
    code = "bad_request"
    location = "json"

    def __init__(self, message=None, *, code=None, errors=None, headers=None):
        self.code = code or type(self).code
        self.headers = dict(headers or {})
        if self.code not in CODES:
            raise ValueError(f"unknown error code {self.code!r}: add it to server/errors.py")
        self.status, default = CODES[self.code]
        self.message = message or default
        self.errors = errors
        super().__init__(self.message)


class Invalid(DomainError):
    """Input that passed the schema but refers to records that do not exist (422)."""
    code = "invalid"

    def __init__(self, errors=None, message=None, *, code=None):
        super().__init__(message, code=code, errors=errors)


class NotFound(DomainError):
    """No such record (404), or none the caller may know of."""
    code = "not_found"


class Unauthorized(DomainError):
    """Who is asking is unknown or not good enough (401)."""
    code = "unauthorized"


class Forbidden(DomainError):
    """Known, but not allowed (403)."""
    code = "forbidden"


class Refused(DomainError):
    """An action the current state does not allow (409), with a message fit to log."""
    code = "conflict"


class Unavailable(DomainError):
    """Not set up or not reachable just now (503)."""
    code = "unavailable"


class ErrorSchema(Schema):
    """The error body, as the OpenAPI document states it for every operation (the
    `default` and 422 answers): documentation only, the body is built by body()."""
    code = fields.Integer(metadata={"description": "The HTTP status"})
    status = fields.String(metadata={"description": "Its reason phrase"})
    error = fields.String(metadata={"enum": sorted(CODES),
                                    "description": "Stable and machine-readable: translate this"})
    message = fields.String(metadata={"description": "English, for developers"})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "Field errors by location (json, query), then field"})


def field_messages(errors):
    """marshmallow's field errors as JSON can always carry them: every key a string.
    A list's item errors are keyed by index (an int); beside a field name in the same
    dict, sorting the keys for JSON failed, and the error answer itself was a 500."""
    if isinstance(errors, dict):
        return {str(key): field_messages(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [field_messages(value) for value in errors]
    return errors


def body(status, error, message=None, errors=None, reason=None):
    """The standard error body (see the module docstring)."""
    payload = {"code": status, "status": reason or HTTP_STATUS_CODES.get(status, "Error"),
               "error": error}
    if message:
        payload["message"] = message
    if errors:
        payload["errors"] = field_messages(errors)
    return payload


def handle_domain_error(error):
    errors = {error.location: error.errors} if error.errors else None
    return body(error.status, error.code, error.message, errors), error.status, error.headers


def handle_http_exception(error):
    """abort() (flask-smorest's, with message/errors/headers in `data`), werkzeug's own
    errors, and the 422 of a body or query that its schema refused."""
    data = getattr(error, "data", None) or {}
    status = error.code or 500
    code = data.get("error") or BY_STATUS.get(status, "bad_request")
    errors = data.get("errors") or data.get("messages")
    # A 429's description is the limit's own error_message; other werkzeug descriptions
    # are long and generic, so the code's default message stands in for them.
    message = data.get("message") or (error.description if status == 429 else CODES[code][1])
    return body(status, code, message, errors), status, data.get("headers") or {}


def handle_unexpected(error):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    # The log gets the exception, the client a generic message and nothing of the stack.
    current_app.logger.exception("unhandled error")
    return handle_domain_error(DomainError(code="internal_error"))


def register(app):
    """The one place errors become answers. Call after api.init_app(app): it replaces
    flask-smorest's HTTPException handler with one that adds `error`."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
