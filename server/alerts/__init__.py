"""Alerts: sanitised warnings that staff write from reports and publish to members."""
