"""URL helpers: the registered domain of a URL (what "top domains" and domain blocklists mean).

tldextract's bundled Public Suffix List snapshot is used, never a download (a fetch at run time
would fail offline and change answers between runs).
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import tldextract


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@functools.lru_cache(maxsize=65536)
def registered_domain(url: str | None) -> str | None:
    """`news.bbc.co.uk/x` → `bbc.co.uk`; a host with no public suffix (localhost, an IP) is itself."""
    if not url:
        return None
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return None
    if not host:
        return None
    found = _extractor()(host).top_domain_under_public_suffix
    return found or host
