"""Disputes: someone who believes an alert wrongly describes them objects, with no account."""
