"""Retention: data kept only as long as needed, purged by `flask retention run`."""
