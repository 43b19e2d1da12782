"""The learned re-ranker: features as served, LightGBM lambdarank trained on logged lists."""
