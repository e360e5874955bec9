"""Source-code trees: a local directory holding one git checkout, several, or plain files.

Work units are batches of files of one repository (`files_per_unit`), so a million-file tree
is a few thousand launcher elements, and each unit carries what a worker needs without
walking again: the repo root, its relative file paths and the licence resolved for the repo.

A directory containing `.git` (a directory, or a file for submodules/worktrees) is a repo root;
each file belongs to its nearest enclosing repo root, else to the tree root. Only files whose
extension (case-sensitive) a registry programming language lists become records; the others
are not code, so they are counted per extension in the plan summary rather than reported as
dropped documents.

Each repo's licence is read from its root's licence file (`licenses.resolve_license`), or
taken from the catalogue entry under `license: entry`.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rootstock.catalog.registry import load_registry
from rootstock.errors import InputError
from rootstock.sources.licenses import resolve_license
from rootstock.sources.records import RecordError

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
        raise InputError("code_tree: `license: entry` needs the catalogue entry's licence")
    trees = []
    for path in paths:
        real = os.path.realpath(path)
        if not os.path.isdir(real):
            what = "a file" if os.path.exists(real) else "missing"
            raise InputError(problems=[(path, "connector.paths", f"code_tree reads directories; this path is {what}")])
        trees.append(real)
    for a in trees:
        for b in trees:
            if a != b and (b + os.sep).startswith(a.rstrip(os.sep) + os.sep):
                raise InputError(f"code_tree: paths overlap ({b} is inside {a}); its files would be read twice")
    if len(set(trees)) != len(trees):
        raise InputError("code_tree: the same directory is listed twice")

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


__all__ = [
    "CodeTreeOptions",
    "CodeTreePlan",
    "DEFAULT_EXCLUDE",
    "RecordError",
    "file_mtime",
    "iter_unit",
    "language_of",
    "plan_tree",
    "plan_units",
    "unit_name",
]
