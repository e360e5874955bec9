"""Beam plumbing that knows nothing of curation: options, spilling, sharded Parquet, small results."""
