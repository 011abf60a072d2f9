"""Statistics for staff and advocacy: report counts with small counts suppressed."""
