"""Domain events: how a package tells the packages above it that something happened,
without importing them (which would make a cycle).

The alerts service sends `alert_published` and `alert_retracted` in the caller's
transaction, before its commit; the push service and the SMS service (which sit above
alerts: they deliver them) connect to both and queue or stop their deliveries there,
so an alert is never published without them. Push receivers return the deliveries
queued or stopped, which publish()/retract() return (`total()` adds them up); the SMS
receivers return None (texts are counted apart). Receivers must not commit.
"""
from blinker import Namespace

_signals = Namespace()

# sender: the Alert; keyword `now` (aware UTC). A receiver returns deliveries queued.
alert_published = _signals.signal("alert-published")
# sender: the Alert; keyword `reason`. A receiver returns deliveries stopped.
alert_retracted = _signals.signal("alert-retracted")


def total(results):
    """The sum of the receivers' counts, from Signal.send()'s [(receiver, value)]."""
    return sum(value or 0 for _receiver, value in results)
