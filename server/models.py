"""Every model, imported in one place so that Alembic and create_app see them all."""
from .accounts.models import AuditEvent, Invite, Member, Staff, StaffSession  # noqa: F401
from .alerts.models import Alert  # noqa: F401
from .areas.models import Area, Region  # noqa: F401
from .cases.models import Case, CaseMessage, CaseNote, PoliceRequest  # noqa: F401
from .disputes.models import Dispute  # noqa: F401
from .identifiers.models import Identifier, WithdrawnIdentifier  # noqa: F401
from .push.models import Delivery, Subscription  # noqa: F401
from .reports.models import Report  # noqa: F401
from .sms.models import SmsDelivery, SmsMember  # noqa: F401
from .stats.models import ReportTally  # noqa: F401
