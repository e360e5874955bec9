"""Source-code trees: a local directory holding one git checkout, several, or plain files.

Work units are batches of files of one repository (`files_per_unit`), so a million-file tree
is a few thousand launcher elements, and each unit carries what a worker needs without
walking again: the repo root, its relative file paths and the licence resolved for the repo.

A directory containing `.git` (a directory, or a file for submodules/worktrees) is a repo root;
each file belongs to its nearest enclosing repo root, else to the tree root. Only files whose
extension (case-sensitive) a registry programming language lists become records; the others
are not code, so they are counted per extension in the plan summary rather than reported as
dropped documents.

Licences come from the repo root's licence file, matched to an SPDX id by `identify_license`,
a small hand-written key-phrase matcher. Checked first (2026-11), by `pip download` and
running them on GPL/MIT/Apache texts: `identify` 2.6.20 (pre-commit; `license_id` needs the
compiled `ukkonen`, matches whole files within 5% edit distance, so it returns None for a
licence file with an added notice or a dual licence, and answers GPL-3.0 without
-only/-or-later) and `pyaskalono` 0.2.0 (3 MB Rust wheel, one maintainer, ~0.17 s per call,
reports "GPL-2.0-only" for a "version 2 or (at your option) any later version" notice, and
UCL-1.0 for "Licensed under the MIT License"); `scancode-toolkit` is far too heavy and
`license-expression` parses expressions but does not read texts. None fit; the matcher below
covers the common licences and says "unknown" otherwise.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rootstock.catalog.registry import load_registry
from rootstock.filters.code import canonical_license
from rootstock.sources.records import RecordError

UNKNOWN = "unknown"

# Pruned wherever they appear (`.git` is always skipped). Vendored and built code is someone
# else's code, usually under another licence, and duplicated across repos.
DEFAULT_EXCLUDE: tuple[str, ...] = (
    "node_modules",
    "bower_components",
    "vendor",
    "third_party",
    "dist",
    "build",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".hg",
    ".svn",
    "site-packages",
)

# Licence files at a repo root, by preference; names are compared case-insensitively.
# COPYING.LESSER/COPYING.LIB come before COPYING: LGPL projects ship the GPL text in COPYING
# and the LGPL terms beside it.
LICENSE_FILES: tuple[str, ...] = (
    "LICENSE",
    "LICENSE.md",
    "LICENSE.txt",
    "LICENSE.rst",
    "LICENCE",
    "LICENCE.md",
    "LICENCE.txt",
    "COPYING.LESSER",
    "COPYING.LIB",
    "COPYING",
    "COPYING.md",
    "COPYING.txt",
    "UNLICENSE",
    "LICENSE-MIT",
    "LICENSE-APACHE",
)
_LICENSE_FILE_RANK = {name.lower(): i for i, name in enumerate(LICENSE_FILES)}
_LICENSE_READ_BYTES = 256 * 1024  # the GPL-3.0 text is 35 KB
_NUL = b"\x00"


class CodeTreeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files_per_unit: int = Field(500, gt=0)
    # fnmatch patterns, case-sensitive. Without "/": matched against each file or directory
    # name at any depth. With "/": matched against the path relative to the tree root
    # ("*" crosses "/" there). Setting this replaces the defaults.
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    # Larger files are `too_large` errors (ROOTS: < 1 MiB; the code filter's max_size_bytes
    # applies ROOTS's strict bound to what gets through).
    max_file_bytes: int = Field(1 << 20, gt=0)
    # file: each repo's licence file, else the catalogue entry's licence. entry: always the
    # entry's (for trees whose licence is known better than its files say).
    license: Literal["file", "entry"] = "file"


@dataclass
class CodeTreePlan:
    units: list[tuple]
    summary: dict[str, Any] = field(default_factory=dict)


# A unit: ("code_tree", repo_root, repo_name, license, license_source, relpaths, first_row).
# A plain tuple (not a NamedTuple) so Beam pickles it and infers no schema from it.
_KIND, _ROOT, _REPO, _LICENSE, _LICENSE_SOURCE, _PATHS, _FIRST_ROW = range(7)


@functools.cache
def _extension_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for lang in load_registry().programming():
        for ext in lang.extensions or ():
            if mapping.setdefault(ext, lang.code) != lang.code:
                raise ValueError(
                    f"language registry: extension {ext!r} is listed by {mapping[ext]!r} and {lang.code!r}"
                )
    return mapping


def language_of(path: str, extensions: dict[str, str] | None = None) -> str | None:
    """Registry code of a file's programming language by (case-sensitive) extension, else None."""
    ext = os.path.splitext(path)[1]
    return (extensions if extensions is not None else _extension_map()).get(ext) if ext else None


def _excluded(name: str, rel: str, patterns: list[str]) -> str | None:
    for pattern in patterns:
        if fnmatchcase(rel if "/" in pattern else name, pattern):
            return pattern
    return None


def _walk(tree: str, patterns: list[str], counts: Counter) -> Iterator[tuple[str, str]]:
    """(repo root, path relative to it) of every regular file under `tree`, deterministic order.

    scandir gives file types without a stat per file. Symlinks are not followed (they leave the
    tree or duplicate it) and special files are skipped (reading a FIFO would block).
    """
    stack: list[tuple[str, str, str]] = [(tree, "", tree)]  # (dir, rel to tree, repo root)
    while stack:
        directory, rel_dir, repo_root = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            counts["unreadable_dirs"] += 1
            continue
        if rel_dir and any(e.name == ".git" for e in entries):
            repo_root = directory
        subdirs = []
        for entry in entries:
            if entry.name == ".git":
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            pattern = _excluded(entry.name, rel, patterns)
            if pattern is not None:
                counts["excluded:" + pattern] += 1
                continue
            if entry.is_symlink():
                counts["symlinks_skipped"] += 1
            elif entry.is_dir(follow_symlinks=False):
                subdirs.append((entry.path, rel, repo_root))
            elif entry.is_file(follow_symlinks=False):
                yield repo_root, entry.path[len(repo_root) :].lstrip(os.sep).replace(os.sep, "/")
            else:
                counts["special_files_skipped"] += 1
        stack.extend(reversed(subdirs))


def plan_tree(paths: list[str], options: CodeTreeOptions, entry_license: str | None = None) -> CodeTreePlan:
    """Units plus a summary (files per language, non-code files per extension, repos, licences).

    `entry_license` is the catalogue entry's licence (SPDX expression, `unknown` or `other`):
    the fallback for repos without a licence file, and the licence of everything under
    `license: entry`. Runs once on the launcher; reads only directory listings and licence files.
    """
    if options.license == "entry" and not entry_license:
        raise ValueError("code_tree: `license: entry` needs the catalogue entry's licence")
    trees = []
    for path in paths:
        real = os.path.realpath(path)
        if not os.path.isdir(real):
            raise ValueError(f"code_tree: {path} is not a directory")
        trees.append(real)
    for a in trees:
        for b in trees:
            if a != b and (b + os.sep).startswith(a.rstrip(os.sep) + os.sep):
                raise ValueError(f"code_tree: paths overlap ({b} is inside {a}); its files would be read twice")
    if len(set(trees)) != len(trees):
        raise ValueError("code_tree: the same directory is listed twice")

    extensions = _extension_map()
    counts: Counter = Counter()
    code_files: Counter = Counter()
    non_code: Counter = Counter()
    units: list[tuple] = []
    repos: list[dict[str, Any]] = []
    for tree in trees:
        by_repo: dict[str, list[str]] = {}
        for repo_root, rel in _walk(tree, options.exclude, counts):
            files = by_repo.setdefault(repo_root, [])
            lang = language_of(rel, extensions)
            if lang is None:
                non_code[os.path.splitext(rel)[1] or "(none)"] += 1
                continue
            code_files[lang] += 1
            files.append(rel)
        for repo_root in sorted(by_repo):
            files = sorted(by_repo[repo_root])
            name = (
                os.path.basename(tree) if repo_root == tree else os.path.relpath(repo_root, tree).replace(os.sep, "/")
            )
            if options.license == "entry":
                license_id, source = str(entry_license), "entry"
            else:
                license_id, source = resolve_license(repo_root, entry_license)
            repos.append(
                {"repo": name, "root": repo_root, "license": license_id, "license_source": source, "files": len(files)}
            )
            step = options.files_per_unit
            for start in range(0, len(files), step):
                units.append(
                    ("code_tree", repo_root, name, license_id, source, tuple(files[start : start + step]), start)
                )
    summary = {
        "units": len(units),
        "repos": repos,
        "code_files": dict(sorted(code_files.items())),
        "non_code_files": dict(sorted(non_code.items())),
        "skipped": dict(sorted(counts.items())),
    }
    return CodeTreePlan(units, summary)


def plan_units(paths: list[str], options: CodeTreeOptions, entry_license: str | None = None) -> list[tuple]:
    """Work units, computed once on the launcher (`plan_tree` also gives the summary)."""
    return plan_tree(paths, options, entry_license).units


def unit_name(unit: tuple, options: CodeTreeOptions) -> str:
    """The repo root: units of one repo share it, and rows are numbered across the repo, so
    (unit_name, row) stays unique."""
    return unit[_ROOT]


def iter_unit(unit: tuple, paths: list[str], options: CodeTreeOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    """(row, relative path, record or error) for each file of the unit; row counts across the repo."""
    extensions = _extension_map()
    root, repo, license_id, source = unit[_ROOT], unit[_REPO], unit[_LICENSE], unit[_LICENSE_SOURCE]
    limit = options.max_file_bytes
    for i, rel in enumerate(unit[_PATHS]):
        row = unit[_FIRST_ROW] + i
        data = _read_limited(os.path.join(root, rel), limit)
        if isinstance(data, str):  # an OSError message
            yield row, rel, RecordError(rel, "unreadable", data)
            continue
        if data is None:
            yield row, rel, RecordError(rel, "too_large", f"file is larger than max_file_bytes ({limit})")
            continue
        if _NUL in data:
            yield row, rel, RecordError(rel, "binary", f"NUL byte at offset {data.index(_NUL)}")
            continue
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError as err:
            yield row, rel, RecordError(rel, "invalid_utf8", f"invalid UTF-8 ({err.reason} at byte {err.start})")
            continue
        yield (
            row,
            rel,
            {
                "id": f"{repo}/{rel}",  # stable across added files, unlike the row
                "path": rel,
                "repo": repo,
                "language": language_of(rel, extensions),
                "license": license_id,
                "license_source": source,
                "content": content,
                "size": len(data),
            },
        )


def _read_limited(path: str, limit: int) -> bytes | str | None:
    """The file's bytes; None if it has more than `limit` (read no more than limit + 1)."""
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size > limit:
                return None
            data = f.read(limit + 1)  # the file may have grown since the stat
    except OSError as err:
        return f"cannot read: {err.strerror or err}"
    return None if len(data) > limit else data


def file_mtime(unit: tuple) -> float | None:
    """Newest modification time of the unit's files (a checkout's files carry its checkout time)."""
    newest = None
    for rel in unit[_PATHS]:
        try:
            mtime = os.stat(os.path.join(unit[_ROOT], rel)).st_mtime
        except OSError:
            continue
        newest = mtime if newest is None else max(newest, mtime)
    return newest


# --------------------------------------------------------------------------- licences


def find_license_files(repo_root: str) -> list[str]:
    """Licence files at the repo root, most preferred first (see LICENSE_FILES)."""
    try:
        with os.scandir(repo_root) as it:
            names = [e.name for e in it if e.name.lower() in _LICENSE_FILE_RANK and e.is_file()]
    except OSError:
        return []
    return sorted(names, key=lambda n: (_LICENSE_FILE_RANK[n.lower()], n))


def resolve_license(repo_root: str, entry_license: str | None = None) -> tuple[str, str]:
    """(SPDX id or `unknown`, source) for a repo under `license: file`.

    The first licence file that identifies wins; if none does, `unknown` from the first file
    (the repo has its own terms, which the entry's licence need not match). No licence file:
    the entry's licence (source "entry"), else ("unknown", "none").
    """
    files = find_license_files(repo_root)
    for name in files:
        try:
            with open(os.path.join(repo_root, name), "rb") as f:
                text = f.read(_LICENSE_READ_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        spdx = identify_license(text)
        if spdx != UNKNOWN:
            return spdx, f"file:{name}"
    if files:
        return UNKNOWN, f"file:{files[0]}"
    if entry_license:
        return str(entry_license), "entry"
    return UNKNOWN, "none"


def _norm(text: str) -> str:
    # Lower-case words and numbers separated by single spaces: immune to line wrapping,
    # markdown, comment markers and quote styles. "Version 2.1" → "version 2 1".
    return " " + re.sub(r"[^a-z0-9]+", " ", text.lower()).strip() + " "


_SPDX_LINE = re.compile(r"SPDX-License-Identifier:\s*([A-Za-z0-9.+-]+)\s*$", re.MULTILINE)

# What `identify_license` can answer (besides "unknown").
KNOWN_LICENSES: frozenset[str] = frozenset(
    {
        "MIT",
        "Apache-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "BSD-3-Clause-Clear",
        "BSD-4-Clause",
        "ISC",
        "MPL-2.0",
        "Unlicense",
        "CC0-1.0",
        "EUPL-1.1",
        "EUPL-1.2",
        "ECL-2.0",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "LGPL-2.0-only",
        "LGPL-2.0-or-later",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
    }
)

_NOTICE = r"(?:terms of|licensed under|released under|distributed under|available under)"

# GNU family: (SPDX prefix, evidence that the file *is* under it, version patterns; the AGPL
# has none: only the FSF's version 3 exists). Evidence is the dated title of the full text or
# a notice phrase; a bare mention is not enough, because MPL-2.0 names GPL-2.0/LGPL-2.1/
# AGPL-3.0 as "Secondary Licenses", GPL-3.0 mentions the AGPL and the LGPL, and the LGPL texts
# build on the GPL. Tried in this order (AGPL, LGPL, LGPL-2.0, GPL) so a text that builds on
# another is named for itself.
_GNU_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "AGPL",
        (
            r" gnu affero general public license version 3 19 november 2007 ",
            rf" {_NOTICE} the gnu affero general public license ",
            r" gnu affero general public license as published by the free software foundation ",
            r" agpl ?v? ?3 ",
        ),
        (),
    ),
    (
        "LGPL",
        (
            r" gnu lesser general public license version (?:2 1 february 1999|3 29 june 2007) ",
            rf" {_NOTICE} the gnu lesser general public license ",
            r" gnu lesser general public license as published by the free software foundation ",
            r" lgpl ?v? ?(?:2 1|3) ",
        ),
        (
            r" gnu lesser general public license (?:as published by the free software foundation )?"
            r"(?:either )?(?:version |v ?)(2 1|3) ",
            r" version (2 1|3) of the (?:gnu lesser general public )?license ",
            r" lgpl ?v? ?(2 1|3) ",
        ),
    ),
    (
        "LGPL",
        (
            r" gnu library general public license version 2 june 1991 ",
            rf" {_NOTICE} the gnu library general public license ",
            r" gnu library general public license as published by the free software foundation ",
        ),
        (
            r" gnu library general public license (?:as published by the free software foundation )?"
            r"(?:either )?(?:version |v ?)(2) ",
            r" version (2) of the (?:gnu library general public )?license ",
        ),
    ),
    (
        "GPL",
        (
            r" gnu general public license version (?:2 june 1991|3 29 june 2007) ",
            rf" {_NOTICE} the gnu general public license ",
            r" gnu general public license as published by the free software foundation ",
            r" gpl ?v? ?[23] ",
        ),
        (
            r" gnu general public license (?:as published by the free software foundation )?"
            r"(?:either )?(?:version |v ?)([23]) ",
            r" version ([23]) of the (?:gnu general public )?license ",
            r" gpl ?v? ?([23]) ",
        ),
    ),
)
_GNU_VERSION = {"2": "2.0", "2 1": "2.1", "3": "3.0"}
# "or (at your option) any later version" is in every GNU text's own how-to-apply appendix,
# so it counts only before that appendix; GPL-3.0's body quotes "or any later version" (§14),
# hence the narrower phrasings.
_OR_LATER = re.compile(r" at your option any later version | (?:v|version |gpl ?|gplv)?[23](?: [01])? or later ")
_APPENDIX = " how to apply these terms "

# Licences whose texts quote ours (EUPL lists the GPL among its compatible licences; ECL-2.0
# is a modified Apache-2.0), tried before everything else so they are not taken for them.
_QUOTING_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("EUPL-1.2", (r" european union public licen[cs]e v(?:ersion)? ?1 2 ",)),
    ("EUPL-1.1", (r" european union public licen[cs]e v(?:ersion)? ?1 1 ",)),
    ("ECL-2.0", (r" educational community license version 2 0 ",)),
)

# Permissive and public-domain licences: first match wins.
_OTHER_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("MPL-2.0", (r" mozilla public license version 2 0 ", r" mozilla public license v? ?2 0 ", r" mpl ?v? ?2 0 ")),
    ("Apache-2.0", (r" apache license version 2 0 ", r" apache license v? ?2 0 ", r" apache 2 0 license ")),
    (
        "BSD-3-Clause-Clear",
        (r" no express or implied licenses to any party s patent rights are granted by this license ",),
    ),
    ("BSD-4-Clause", (r" all advertising materials mentioning features or use of this software must display ",)),
    (
        "BSD-3-Clause",
        (
            r" redistribution and use in source and binary forms with or without modification are permitted"
            r" .*(?: neither the name of | names of its contributors may not be used | name of the copyright holder nor)",
        ),
    ),
    (
        "BSD-2-Clause",
        (r" redistribution and use in source and binary forms with or without modification are permitted ",),
    ),
    (
        "ISC",
        (
            r" permission to use copy modify and (?:or )?distribute this software for any purpose with or without fee"
            r" is hereby granted provided that the above copyright notice and this permission notice appear in all copies ",
        ),
    ),
    (
        "MIT",
        (
            r" permission is hereby granted free of charge to any person obtaining a copy of this software ",
            rf" {_NOTICE} the (?:terms of the )?mit licen[cs]e ",
            r"^ (?:the )?mit licen[cs]e ",  # title line at the very top
        ),
    ),
    ("Unlicense", (r" this is free and unencumbered software released into the public domain ",)),
    ("CC0-1.0", (r" cc0 1 0 universal ", r" creative commons zero v?1 0 ", r" cc0 1 0 ")),
)

_COMPILED_GNU = [
    (prefix, [re.compile(p) for p in evidence], [re.compile(p) for p in versions])
    for prefix, evidence, versions in _GNU_RULES
]
_COMPILED_QUOTING = [(spdx, [re.compile(p) for p in pats]) for spdx, pats in _QUOTING_RULES]
_COMPILED_OTHER = [(spdx, [re.compile(p) for p in pats]) for spdx, pats in _OTHER_RULES]


def identify_license(text: str) -> str:
    """SPDX id of a licence file's text, or "unknown".

    1. An `SPDX-License-Identifier:` line naming one licence this module knows wins.
    2. EUPL-1.1/1.2 and ECL-2.0 (their texts quote GPL/Apache), then the GNU family (AGPL,
       LGPL-2.1/3.0, LGPL-2.0, GPL), then MPL-2.0, Apache-2.0, BSD-3-Clause-Clear, BSD-4/3/2-Clause,
       ISC, MIT, Unlicense, CC0-1.0, each by key phrases of its text or of its usual notice.
       Copyleft is tried before permissive, so a file that names both (bundled notices, "dual
       licensed under MIT or GPL-2") resolves to the more restrictive one.
    A GNU text is "-or-later" only if a notice outside its how-to-apply appendix grants it; the
    bare licence text is read as "-only" (GitHub's licensee says just "GPL-3.0"; the text
    alone does not grant later versions). A GNU licence whose version cannot be read is
    "unknown".
    """
    for match in _SPDX_LINE.finditer(text):
        spdx = canonical_license(match.group(1))
        if spdx in KNOWN_LICENSES:
            return spdx
    norm = _norm(text)
    cut = norm.find(_APPENDIX)
    body = norm if cut < 0 else norm[:cut]
    for spdx, patterns in _COMPILED_QUOTING:
        if any(p.search(norm) for p in patterns):
            return spdx
    for prefix, evidence, versions in _COMPILED_GNU:
        if not any(p.search(norm) for p in evidence):
            continue
        version = "3.0" if not versions else None
        for p in versions:
            m = p.search(norm)
            if m:
                version = _GNU_VERSION[m.group(1)]
                break
        if version is None:
            return UNKNOWN
        later = _OR_LATER.search(body) is not None
        return f"{prefix}-{version}-{'or-later' if later else 'only'}"
    for spdx, patterns in _COMPILED_OTHER:
        if any(p.search(norm) for p in patterns):
            return spdx
    return UNKNOWN


__all__ = [
    "CodeTreeOptions",
    "CodeTreePlan",
    "DEFAULT_EXCLUDE",
    "LICENSE_FILES",
    "RecordError",
    "file_mtime",
    "identify_license",
    "iter_unit",
    "language_of",
    "plan_tree",
    "plan_units",
    "resolve_license",
    "unit_name",
]
