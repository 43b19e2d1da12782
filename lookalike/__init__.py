"""Lookalike: similar-product recommendations, explained."""
