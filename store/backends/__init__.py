"""One module per engine, each translating the store protocol to its library: embedded Qdrant
(`qdrant_embedded`), a Qdrant server (`qdrant_server`), FAISS (`faiss_store`); `local_backend`
is what the two on-disk ones share. `store.factory` picks one by name."""
