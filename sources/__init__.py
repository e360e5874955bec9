"""Connectors: one per kind of input, each turning records into documents with provenance.

Parsing is plain Python (`jsonl`, `delimited`, `parquet`, `hf_dataset`, `code_tree`, `records`),
so it is tested without Beam; `read` plans a source's work units (files, dataset shards, dump
streams) and `units.UnitReader` reads one; the Beam wiring is pipeline/jobs/units.py.
"""
