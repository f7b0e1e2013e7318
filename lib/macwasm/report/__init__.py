"""Turning results into what people read: text tables, JSON, JSON Lines, SARIF, pandas."""
