"""Lookalike stage: api."""
