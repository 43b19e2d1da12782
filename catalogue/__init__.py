"""The catalogue service: one owner of product metadata (SQLite), versioned, taking writes."""
