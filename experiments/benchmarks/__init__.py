"""Benchmarks behind ``intentlab bench``: ratios measured side by side in one process."""
