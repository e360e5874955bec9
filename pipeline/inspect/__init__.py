"""Search and inspection of a published release: `rootstock index`, `search`, `show`, `serve`.

BigScience shipped a search tool over ROOTS (BM25 and exact match) so that anyone could see what
went into BLOOM; these commands do the same for a rootstock release, and add what only rootstock
knows: every document's provenance and the trail of decisions that kept or dropped it.
"""
