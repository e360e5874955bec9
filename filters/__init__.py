"""Per-document text logic with no Beam in it (language ID, quality, MinHash, PII).

Every function here takes and returns plain Python values, so it is unit-tested directly and
reused outside Beam; the stages in `pipeline/` only wire these functions into the graph.
"""
