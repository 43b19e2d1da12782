"""Names of the backends and of the collections (one per embedding model)."""

BACKENDS = ("qdrant-embedded", "qdrant", "faiss")
MODELS = ("resnet", "efficientnet", "clip", "clip_text", "hybrid")
