"""The Apache Beam graph: ingest → stages (langid, quality, dedup, pii) → sharded Parquet → manifest.

Each stage is a composite PTransform in its own module; the text logic it applies lives in
`filters/`. The same graph runs on FnApiRunner locally and on Dataflow, Spark or Flink.
"""
