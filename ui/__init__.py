"""Lookalike stage: ui."""
