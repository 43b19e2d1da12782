"""The recommendation pipeline: ANN recall → MMR diversity → category re-rank, every score
explained. Pure functions over the store protocol, shared by the API and the benchmarks."""
