"""Load and validate a catalogue directory (one YAML file per source)."""

from __future__ import annotations

import glob
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from apache_beam.io.filesystems import FileSystems
from pydantic import ValidationError

from rootstock.catalog.entry import SourceEntry
from rootstock.catalog.registry import (
    REGISTRY_PATH,
    LanguageRegistry,
    base_languages,
    load_registry,
    merge_overlay,
    use_overlay,
)
from rootstock.errors import CatalogError, ConfigError
from rootstock.paths import is_url, parent, resolve_path
from rootstock.sources.connectors import PATH_OPTIONS, check_connector
from rootstock.strict import read_yaml, validation_problems

DEFAULT_CATALOG = Path("catalog")  # the commands' default: ./catalog, as in a checkout of this repository


@dataclass
class Catalog:
    root: Path | str  # a local directory, or a URL (gs://…) for a catalogue read from storage
    entries: dict[str, SourceEntry] = field(default_factory=dict)
    files: dict[str, Path | str] = field(default_factory=dict)
    languages: list[dict] = field(default_factory=list)  # the catalogue's languages.yaml entries

    def __getitem__(self, uid: str) -> SourceEntry:
        return self.entries[uid]

    def select(self, uids: list[str] | str) -> list[SourceEntry]:
        if uids == "all" or uids == ["all"]:
            return [self.entries[uid] for uid in sorted(self.entries)]
        missing = [uid for uid in uids if uid not in self.entries]
        if missing:
            raise CatalogError([(str(self.root), "sources", f"no catalogue entry for {uid!r}") for uid in missing])
        return [self.entries[uid] for uid in uids]

    def resolve_paths(self, uid: str) -> list[str]:
        """Connector paths made absolute: relative ones are relative to the entry file."""
        base = parent(self.files[uid])
        return [resolve_path(p, base) for p in self.entries[uid].connector.paths]

    def resolve_blocklist_files(self, uid: str) -> list[str]:
        """The entry's URL blocklist files, resolved like its paths."""
        spec = self.entries[uid].connector.url_filter
        base = parent(self.files[uid])
        return [resolve_path(p, base) for p in spec.block_domain_files] if spec else []

    def relative(self, uid: str) -> str:
        """The entry's file relative to the catalogue root (what a manifest records)."""
        file, root = str(self.files[uid]), str(self.root).rstrip("/")
        return file[len(root) + 1 :] if file.startswith(root + "/") else file


def with_option_paths(entry: SourceEntry, base: Path | str) -> SourceEntry:
    """ENTRY with the file paths in its kind's options (PATH_OPTIONS) resolved against BASE."""
    names = PATH_OPTIONS.get(entry.connector.kind, ())
    options = dict(entry.connector.options)
    for name in names:
        value = options.get(name)
        if isinstance(value, list):
            options[name] = [resolve_path(str(v), base) for v in value]
        elif isinstance(value, str):
            options[name] = resolve_path(value, base)
    if options == entry.connector.options:
        return entry
    return entry.model_copy(update={"connector": entry.connector.model_copy(update={"options": options})})


def _field(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(entry)"


def _check_entry(entry: SourceEntry, file: Path | str, registry: LanguageRegistry) -> list[tuple[str, str, str]]:
    problems = []
    stem = posixpath.splitext(posixpath.basename(str(file)))[0]
    base = parent(file)
    if entry.uid != stem:
        problems.append((str(file), "uid", f"{entry.uid!r} must equal the file name {stem!r}"))
    for i, code in enumerate(entry.languages):
        if code not in registry:
            hint = registry.resolve(code)
            if hint:
                reason = f"{code!r} is written {hint!r} here (the canonical code)"
            else:
                close = registry.suggest(code)
                reason = f"{code!r} is not a language code (ISO 639 or BCP-47)" + (
                    f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                )
            problems.append((str(file), f"languages.{i}", reason))
    for fld, reason in check_connector(entry.connector):
        problems.append((str(file), f"connector.{fld}", reason))
    for name in PATH_OPTIONS.get(entry.connector.kind, ()):
        value = entry.connector.options.get(name)
        for i, path in enumerate(value if isinstance(value, list) else [value] if value else []):
            resolved = resolve_path(str(path), base)
            if not is_url(resolved) and not os.path.isfile(resolved):
                problems.append((str(file), f"connector.options.{name}.{i}", f"{resolved}: no such file"))
    spec = entry.connector.url_filter
    for i, path in enumerate(spec.block_domain_files if spec else []):
        resolved = resolve_path(path, base)
        if not is_url(resolved) and not os.path.isfile(resolved):
            problems.append((str(file), f"connector.url_filter.block_domain_files.{i}", f"{resolved}: no such file"))
    for i, path in enumerate(entry.connector.paths):
        resolved = resolve_path(path, base)
        if not is_url(resolved) and not os.path.exists(resolved) and not glob.glob(resolved):
            problems.append((str(file), f"connector.paths.{i}", f"{resolved} matches no file"))
        elif entry.connector.kind == "code_tree" and not is_url(resolved) and not os.path.isdir(resolved):
            problems.append(
                (str(file), f"connector.paths.{i}", f"{resolved} is not a directory (code_tree reads directory trees)")
            )
    return problems


def load_catalog(root: str | Path, *, check_files: bool = True) -> Catalog:
    """Load every entry under ROOT/sources (or ROOT itself); raise CatalogError listing all problems.
    ROOT may be a URL (gs://, s3://…): the entries and their relative paths are read from there."""
    catalog, problems = _load(root, check_files=check_files)
    if problems:
        raise CatalogError(problems)
    return catalog


def validate_catalog(root: str | Path) -> tuple[Catalog, list[tuple[str, str, str]]]:
    return _load(root, check_files=True)


def _exists(path: str) -> bool:
    return FileSystems.exists(path) if is_url(path) else os.path.isfile(path)


def _languages(root: str) -> tuple[list[dict], list[tuple[str, str, str]]]:
    """The catalogue's own languages.yaml (languages to add, fields of built-in ones to change)."""
    path = resolve_path("languages.yaml", root)
    if not _exists(path) or (not is_url(path) and Path(path).resolve() == REGISTRY_PATH.resolve()):
        return [], []
    try:
        data = read_yaml(path, "language registry")
    except ConfigError as err:
        return [], [(str(path), "(file)", p.reason) for p in err.problems]
    items = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return [], [(str(path), "languages", "a list of language entries is required")]
    problems, kept = [], []
    base = base_languages()
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict) or not item.get("code"):
                raise ValueError("each entry needs a `code`")
            merge_overlay(list(base), [item])
        except ValidationError as err:
            problems += [(str(path), f"languages.{i}.{f}", r) for _, f, r in validation_problems(err, str(path))]
            continue
        except ValueError as err:
            problems.append((str(path), f"languages.{i}", str(err)))
            continue
        kept.append(item)
    return kept, problems


def _entry_files(root: str) -> tuple[str | None, list[Path | str]]:
    """(the directory entries are in, or None if there is none; its *.yaml files, sorted)."""
    if is_url(root):
        for directory in (resolve_path("sources", root), root):
            found = FileSystems.match([f"{directory}/*.yaml", f"{directory}/*.yml"])
            # Named under DIRECTORY as written: stores spell their own listings differently (memory:///).
            files = sorted(
                {f"{directory}/{posixpath.basename(m.path)}" for result in found for m in result.metadata_list}
            )
            if files:
                return directory, files
        return (root if FileSystems.exists(root) or FileSystems.match([root + "/*"])[0].metadata_list else None), []
    directory = Path(root) / "sources" if (Path(root) / "sources").is_dir() else Path(root)
    if not directory.is_dir():
        return None, []
    return str(directory), sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))


def _load(root: str | Path, *, check_files: bool) -> tuple[Catalog, list[tuple[str, str, str]]]:
    root = str(root).rstrip("/") if is_url(str(root)) else Path(root).resolve()
    languages, problems = _languages(str(root))
    use_overlay(languages)
    registry = load_registry()
    catalog = Catalog(root=root, languages=languages)
    directory, files = _entry_files(str(root))
    if directory is None:
        return catalog, [(str(root), "(catalogue)", "no such directory")]
    if not files:
        problems.append((directory, "(catalogue)", "no *.yaml entries found"))
    for file in files:
        try:
            entry = SourceEntry.model_validate(read_yaml(file, "catalogue entry"))
        except ConfigError as err:
            problems += [(str(file), "(file)", p.reason) for p in err.problems]
            continue
        except ValidationError as err:
            problems += [tuple(p) for p in validation_problems(err, str(file))]
            continue
        entry_problems = _check_entry(entry, file, registry)
        if not check_files:
            entry_problems = [p for p in entry_problems if not p[2].endswith("matches no file")]
        problems.extend(entry_problems)
        if entry.uid in catalog.entries:
            problems.append((str(file), "uid", f"{entry.uid!r} already defined in {catalog.files[entry.uid]}"))
            continue
        catalog.entries[entry.uid] = with_option_paths(entry, parent(file))
        catalog.files[entry.uid] = file
    return catalog, problems
