"""Every model, imported in one place so that Alembic and create_app see them all."""
from .accounts.models import AuditEvent, Invite, Member, Staff, StaffSession  # noqa: F401
from .areas.models import Area, Region  # noqa: F401
from .reports.models import Report  # noqa: F401
