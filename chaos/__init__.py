"""`make chaos`: fleet-level reliability figures on the embedded cluster (issue 14)."""
