"""The Apache Beam graph, by concern: `beam/` (plumbing), `stages/` (curation steps and their
registry), `release/` (what a release is and what can be done to one), `jobs/` (the commands'
pipelines), `mix/` (training mixes), `cli/` (the command line). `config.py` is the run config.

Each stage is a composite PTransform; the text logic it applies lives in `filters/`. The same
graph runs on FnApiRunner locally and on Dataflow, Spark or Flink.
"""
