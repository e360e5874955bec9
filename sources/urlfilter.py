"""URL blocklists applied at ingestion: blocked domains (with their subdomains) and URL patterns.

Written here because datatrove's URLFilter is a pipeline step of its own runtime with its own
list downloads; this one reads the lists a catalogue entry names (a user's copy of UT1's adult
list, say) through Beam's file systems, once per worker.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from apache_beam.io.filesystems import FileSystems

from rootstock.catalog.entry import UrlFilter
from rootstock.errors import InputError

BLOCKED = "url_blocked"


def _domain(value: str) -> str:
    return value.strip().lower().rstrip(".").removeprefix("www.")


class UrlBlocklist:
    """`blocked(url)` → the rule that blocks URL, or None. Domain files are read on first use."""

    def __init__(self, spec: UrlFilter, files: list[str]):
        self.spec, self.files = spec, files
        self._domains: set[str] | None = None
        self._patterns = [re.compile(p) for p in spec.block_url_patterns]

    def __getstate__(self):  # workers read the lists themselves; only the spec travels
        return {"spec": self.spec, "files": self.files}

    def __setstate__(self, state):
        self.__init__(state["spec"], state["files"])

    def _load(self) -> set[str]:
        domains = {_domain(d) for d in self.spec.block_domains if d.strip()}
        for path in self.files:
            try:
                with FileSystems.open(path) as handle:
                    for raw in handle:
                        line = raw.decode("utf-8", "replace").split("#", 1)[0].strip()
                        if line:
                            domains.add(_domain(line))
            except OSError as err:
                raise InputError(
                    problems=[(path, "connector.url_filter.block_domain_files", f"unreadable ({err})")]
                ) from None
        return domains

    def blocked(self, url: str | None) -> str | None:
        if not url:
            return None
        if self._domains is None:
            self._domains = self._load()
        try:
            host = _domain(urlsplit(url.strip()).hostname or "")
        except ValueError:
            host = ""
        labels = host.split(".") if host else []
        for i in range(len(labels)):
            if ".".join(labels[i:]) in self._domains:
                return f"domain {'.'.join(labels[i:])} is blocked"
        for pattern in self._patterns:
            if pattern.search(url):
                return f"URL matches the blocked pattern {pattern.pattern!r}"
        return None
