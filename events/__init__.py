"""Shoppers' events and the lists they were shown: the learning loop's data (one owner)."""
