"""The application layer between the HTTP API (and the benchmarks) and the domain packages.

`app.Services` wires one process's services; each is narrow and testable alone:
`collections` (open, switch, watch the served builds), `writes` (the live write path),
`recommender` (similar products, search, the response cache), `products` (catalogue reads),
`execution` (the one model thread), `encoding` (the online encoders), `replica` (the
in-memory catalogue and its lock protocol), `queries` (CLIP text-query expansion).
"""
