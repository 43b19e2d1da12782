"""Lookalike stage: ingest."""
