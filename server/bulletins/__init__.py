"""Paper bulletins: the live alerts for chosen areas on one printable A4 page, for drop-ins."""
