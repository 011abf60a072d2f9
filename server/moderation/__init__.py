"""Moderation: staff turn reports into sanitised alerts (queue, review, reject, link,
write, publish, retract), every step written to the audit log."""
