"""Simulated shoppers: traffic through the REST API alone, for the demo, tests and benchmarks."""
