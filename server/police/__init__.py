"""Police packs: what reporters agreed to share with the police, as a printable page and a CSV."""
