"""Cases: follow-up of a report whose reporter asked for support, without an account."""
