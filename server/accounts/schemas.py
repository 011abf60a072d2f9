from marshmallow import Schema, fields, validate

from ..schemas import StrictSchema, UtcDateTime
from ..security import PASSWORD_MAX_LENGTH


class LoginSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(1, 80))
    password = fields.String(required=True, validate=validate.Length(1, PASSWORD_MAX_LENGTH))
    otp = fields.String(validate=validate.Regexp(r"^\d{6}$", error="Six digits."))


class StaffSchema(Schema):
    username = fields.String()
    role = fields.String()
    csrf_token = fields.String()
    totp_enabled = fields.Boolean()


class OtpSchema(StrictSchema):
    otp = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$", error="Six digits."))


class TotpSetupSchema(Schema):
    secret = fields.String()
    provisioning_uri = fields.String()


class InviteRequestSchema(StrictSchema):
    # For staff only ("drop-in, Tuesday"); never a name or anything that identifies someone.
    note = fields.String(validate=validate.Length(max=120), allow_none=True)


class InviteSchema(Schema):
    code = fields.String()
    expires_at = UtcDateTime()
    join_url = fields.String()


class RedeemSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(1, 20))


class TokenSchema(Schema):
    token = fields.String()


class MemberMeSchema(Schema):
    member = fields.Boolean()


class MemberSchema(Schema):
    id = fields.Integer()
    created_at = UtcDateTime()
    revoked_at = UtcDateTime(allow_none=True)
    note = fields.String(allow_none=True)
    revocable = fields.Method("_revocable", metadata={
        "type": "boolean", "description": "Whether the staff member asking may revoke it"})

    def _revocable(self, member):
        from flask import g

        from .service import invites_made_by, role_at_least
        staff = getattr(g, "staff", None)
        if staff is None:
            return False
        if role_at_least(staff.role, "moderator"):
            return True
        if "invites_made" not in g:  # one query per listing, not one per member
            g.invites_made = invites_made_by(staff)
        return member.invite_id in g.invites_made
