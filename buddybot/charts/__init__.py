"""Charts rendered as PNG bytes with matplotlib's Agg backend (no pyplot, no display)."""
