"""The catalogue validator and the language registry."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rootstock.catalog.loader import load_catalog, validate_catalog
from rootstock.catalog.registry import load_registry
from rootstock.errors import CatalogError
from tests.conftest import CATALOG, entry, run_cli, write_catalog

JSONL = {"kind": "jsonl", "paths": ["../data/*.jsonl"]}


def test_registry_has_all_roots_languages():
    registry = load_registry()
    natural = [lang for lang in registry.natural() if lang.roots]
    programming = registry.programming()
    assert len(natural) == 46 and len(programming) == 13
    assert {"zhs", "zht"} <= {lang.code for lang in natural}
    assert registry["zhs"].script == "Hans" and registry["zht"].script == "Hant"
    assert registry["fi"].roots is False  # BLOOM-plus-Finnish needs it, ROOTS did not have it
    # ROOTS byte shares of the natural languages add up to Table 1 minus code.
    assert sum(lang.roots_bytes for lang in natural) == 1_614_479_114_961 - 174_700_245_772
    # ROOTS missed lowercase .c/.h; the registry must not.
    assert ".c" in registry["c"].extensions and ".h" in registry["c"].extensions
    assert ".C" in registry["cpp"].extensions


@pytest.mark.parametrize(
    "name,code",
    [
        ("zh-CN", "zhs"),
        ("zh-TW", "zht"),
        ("zh-Hant-HK", "zht"),
        ("ara", "ar"),
        ("arb", "ar"),
        ("swh", "sw"),
        ("fin", "fi"),
        ("en-GB", "en"),
        ("EN", "en"),
        ("py", "python"),
        ("c++", "cpp"),
        ("klingon", None),
    ],
)
def test_registry_resolves_codes_and_aliases(name, code):
    assert load_registry().resolve(name) == code


def test_bundled_catalogue_is_valid():
    catalog = load_catalog(CATALOG)
    assert len(catalog.entries) >= 5
    kinds = {e.connector.kind for e in catalog.entries.values()}
    assert kinds == {"jsonl", "parquet", "csv", "hf_dataset", "code_tree", "warc", "wikipedia"}
    for e in catalog.entries.values():
        assert e.license.id and e.custodian.contact and e.removal_contact and e.origin


def _problems(root: Path) -> list[tuple[str, str, str]]:
    _, problems = validate_catalog(root)
    return problems


def test_validator_reports_every_bad_entry_with_file_field_and_reason(tmp_catalog: Path):
    (tmp_catalog / "data").mkdir(parents=True)
    (tmp_catalog / "data" / "x.jsonl").write_text('{"text": "hello"}\n')
    good = entry("good", JSONL)
    bad_license = entry("bad_license", JSONL, license={"id": "Not-A-Licence-1.0"})
    other_without_text = entry("other_no_text", JSONL, license={"id": "other"})
    bad_language = entry("bad_language", JSONL, languages=["en", "zh"])
    bad_custodian = entry("bad_custodian", JSONL, custodian={"name": "x", "type": "alien", "contact": "x@example.org"})
    missing_field = entry("missing_field", JSONL)
    del missing_field["removal_contact"]
    unknown_key = entry("unknown_key", {**JSONL, "text_feild": "body"})
    wrong_uid = {**entry("wrong_uid", JSONL), "uid": "something_else"}
    no_files = entry("no_files", {"kind": "jsonl", "paths": ["../data/*.json.gz"]})
    bad_option = entry("bad_option", {"kind": "csv", "paths": ["../data/x.jsonl"], "options": {"delimiter": ";;"}})
    bad_policy = entry("bad_policy", JSONL, pii={"likelihood": "unlikely", "policy": "shred"})
    write_catalog(
        tmp_catalog,
        good,
        bad_license,
        other_without_text,
        bad_language,
        bad_custodian,
        missing_field,
        unknown_key,
        no_files,
        bad_option,
        bad_policy,
    )
    (tmp_catalog / "sources" / "wrong_uid.yaml").write_text(yaml.safe_dump(wrong_uid))
    (tmp_catalog / "sources" / "not_yaml.yaml").write_text("uid: [unclosed\n")

    problems = _problems(tmp_catalog)
    by_file = {}
    for file, field, reason in problems:
        by_file.setdefault(Path(file).stem, []).append((field, reason))

    assert "good" not in by_file
    assert by_file["bad_license"][0][0] == "license.id" and "Not-A-Licence-1.0" in by_file["bad_license"][0][1]
    assert by_file["other_no_text"][0][0] == "license" and "text" in by_file["other_no_text"][0][1]
    assert by_file["bad_language"] == [("languages.1", "'zh' is written 'zhs' here (the canonical code)")]
    assert by_file["bad_custodian"][0][0] == "custodian.type"
    assert by_file["missing_field"][0][0] == "removal_contact"
    assert by_file["unknown_key"][0][0] == "connector.text_feild"
    assert by_file["wrong_uid"][0][0] == "uid"
    assert by_file["no_files"][0][0] == "connector.paths.0" and "matches no file" in by_file["no_files"][0][1]
    assert by_file["bad_option"][0][0] == "connector.options.delimiter"
    assert by_file["bad_policy"][0][0] == "pii.policy"
    assert by_file["not_yaml"][0][0] == "(file)"
    assert len(by_file) == 11

    with pytest.raises(CatalogError) as err:
        load_catalog(tmp_catalog)
    assert "bad_license.yaml: license.id" in str(err.value)


def test_cli_validate_exits_non_zero_and_names_file_and_field(tmp_catalog: Path):
    (tmp_catalog / "data").mkdir(parents=True)
    (tmp_catalog / "data" / "x.jsonl").write_text('{"text": "hello"}\n')
    write_catalog(tmp_catalog, entry("ok", JSONL), entry("broken", JSONL, languages=["xx-not-a-lang"]))
    result = run_cli("catalog", "validate", str(tmp_catalog), check=False)
    assert result.returncode == 1
    assert "broken.yaml: languages.0: 'xx-not-a-lang' is not a language code (ISO 639 or BCP-47)" in result.stderr
    assert "1 problem(s)" in result.stderr
    ok = run_cli("catalog", "validate", str(CATALOG))
    assert "catalogue entries OK" in ok.stdout


def test_cli_tables():
    listing = run_cli("catalog", "list").stdout
    for uid in load_catalog(CATALOG).entries:
        assert uid in listing
    languages = run_cli("languages").stdout
    assert "60 languages: 47 natural, 13 programming (59 in ROOTS)" in languages
    assert "zht" in languages and "Traditional Chinese" in languages
    code = run_cli("languages", "--kind", "programming").stdout
    assert "python" in code and "English" not in code
