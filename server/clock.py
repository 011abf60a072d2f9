"""Time, in one place: every time the server stores or compares is an aware UTC datetime."""
from datetime import UTC, datetime


def utcnow():
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def utc(moment):
    """`moment` as an aware UTC datetime; None stays None. SQLite hands stored times back
    naive: every time we store is UTC, so naive means UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
