"""Vector store: one protocol, three backends (embedded Qdrant, Qdrant server, FAISS)."""
