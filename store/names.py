"""Names of the backends and of the collections (one per registered embedding model)."""

from core.registry import MODELS as REGISTERED

BACKENDS = ("qdrant-embedded", "qdrant", "faiss")
MODELS = tuple(REGISTERED)
