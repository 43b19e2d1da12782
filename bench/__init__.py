"""Lookalike stage: bench."""
