"""Connectors: one per kind of input, each turning records into documents with provenance.

Parsing is plain Python (`jsonl`, `delimited`, `parquet`, `hf_dataset`, `code_tree`, `records`),
so it is tested without Beam; `read.ReadSource` / `read.ReadCatalog` are the thin Beam wiring
that splits work by file or unit.
"""
