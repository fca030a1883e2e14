"""Pure functions from cluster objects / model snapshots to dashboard rows (no Textual here)."""
