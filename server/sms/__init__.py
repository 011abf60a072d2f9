"""Text messages (SMS): members without a smartphone get alerts and check numbers by text."""
