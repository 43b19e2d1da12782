"""Lookalike stage: embed."""
