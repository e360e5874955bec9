"""Languages beyond the registry file (issue 16): any ISO 639 language or BCP-47 tag runs end to
end with ROOTS's default settings, a catalogue's own languages.yaml adds to the registry, and a
language tag that names no language is counted, never a silent drop."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from rootstock.catalog.registry import load_registry, use_overlay
from tests.conftest import entry, run_cli, write_catalog, write_config

GERMAN = [
    "Die Bibliothek der Stadt ist dienstags und donnerstags bis acht Uhr abends geöffnet.",
    "Im Herbst pflanzten die Freiwilligen am Nordhang junge Kiefern, um zwei alte Waldstücke zu verbinden.",
    "Der Wochenmarkt zieht für einige Wochen auf den Schulhof um, während der Platz erneuert wird.",
    "Nach dem Regen färben sich die Hügel rund um das Dorf in wenigen Tagen wieder grün.",
    "Meine Großmutter hat mir beigebracht, Brot ohne Waage und ohne Rezept zu backen.",
    "Die Fähre über den See fährt im Winter nur noch zweimal am Tag, morgens und am späten Nachmittag.",
]


def german(i: int) -> str:
    return " ".join(GERMAN[(i + k) % len(GERMAN)] for k in range(4))


def test_a_german_source_runs_end_to_end_and_unknown_tags_are_counted(tmp_path: Path):
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    tags = ["de", "de-AT", "deu", "Deutsch", "de-CH"] * 6  # "Deutsch" is an alias only the catalogue's file adds
    records = [{"id": str(i), "text": german(i), "lang": tag} for i, tag in enumerate(tags)]
    records.append({"id": "x", "text": german(99), "lang": "xx"})  # names no language
    (data / "de.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    connector = {"kind": "jsonl", "paths": ["../data/de.jsonl"], "id_field": "id", "lang_field": "lang"}
    catalog = write_catalog(tmp_path / "catalog", entry("zeitung", connector, languages=["de"]))
    (catalog / "languages.yaml").write_text(
        yaml.safe_dump({"languages": [{"code": "de", "name": "German", "aliases": ["Deutsch"], "min_doc_bytes": 300}]})
    )
    config = write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages={"langid": {"enabled": True}})
    run_cli("run", str(config))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    cells = {c["lang"]: c for c in manifest["by_source_lang"]}
    assert cells["de"]["docs_out"] == 31  # the 30 German records, and the one tagged "xx" that LID routed
    assert cells["und"]["notes"]["input:unknown_language"] == 1 and cells["und"]["routed_to"] == {"de": 1}
    assert manifest["totals"]["docs_in"] == 31 and manifest["totals"]["docs_out"] == 31
    assert "German" in (tmp_path / "out" / "README.md").read_text()


def test_an_unknown_declared_language_is_a_catalogue_problem_with_suggestions(tmp_path: Path):
    catalog = write_catalog(
        tmp_path / "catalog",
        entry("a", {"kind": "jsonl", "paths": ["*.jsonl"]}, languages=["German"]),
        entry("b", {"kind": "jsonl", "paths": ["*.jsonl"]}, languages=["deu"]),
        entry("c", {"kind": "jsonl", "paths": ["*.jsonl"]}, languages=["swahli"]),
    )
    (catalog / "sources" / "x.jsonl").write_text("")
    result = run_cli("catalog", "validate", str(catalog), check=False)
    assert result.returncode == 1
    assert (
        "a.yaml: languages.0: 'German' is not a language code (ISO 639 or BCP-47); did you mean 'de'?" in result.stderr
    )
    assert "b.yaml: languages.0: 'deu' is written 'de' here (the canonical code)" in result.stderr
    assert (
        "c.yaml: languages.0: 'swahli' is not a language code (ISO 639 or BCP-47); did you mean 'sw'?" in result.stderr
    )


def test_outside_languages_have_roots_default_entries_and_an_overlay_changes_them():
    registry = load_registry()
    assert registry.resolve("sr-Latn") == "sr-Latn" and registry.resolve("srp") == "sr"
    assert registry["sr-Latn"].script == "Latn" and registry["sr"].script == "Cyrl" and not registry["sr"].roots
    assert registry.resolve("xx") is None and "zh" not in registry and registry.resolve("zh") == "zhs"
    try:
        use_overlay([{"code": "tlh", "name": "Klingon", "aliases": ["tlhIngan"]}, {"code": "fi", "min_doc_bytes": 512}])
        registry = load_registry()
        assert registry.resolve("tlhIngan") == "tlh" and registry["fi"].min_doc_bytes == 512
    finally:
        use_overlay(None)
    assert load_registry().resolve("tlhIngan") is None
