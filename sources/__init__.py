"""Connectors: one per kind of input, each turning records into documents with provenance.

Parsing is plain Python (`jsonl`, `delimited`, `parquet`, `hf_dataset`, `records`), so it is
tested without Beam; `read.ReadSource` is the thin Beam wiring that splits work by file.
"""
