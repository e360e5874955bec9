"""The pii stage end to end: catalogue policy per source, per-category overrides, counts, rejected set."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from tests.conftest import entry, write_catalog, write_config

EMAIL = "kirjoita.meille@example.fi"
PHONE = "+358 40 123 4567"
CARD = "4111 1111 1111 1111"
PROSE = (
    "Kylän kirjasto on avoinna tiistaisin ja torstaisin, ja lukupiiri kokoontuu joka kuun ensimmäisenä "
    "maanantaina keskustelemaan uusista kirjoista."
)


def _rows(path: Path, kind: str) -> dict[tuple[str, str], dict]:
    files = list(path.glob(f"{kind}/**/*.parquet"))
    rows = pa.concat_tables([pq.read_table(f) for f in files]).to_pylist() if files else []
    return {(r["source"], r["source_doc_id"]): r for r in rows}


def test_policies_counts_and_no_value_left_anywhere(tmp_path: Path):
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    docs = [
        {"id": "contact", "text": f"{PROSE} Kysymykset: {EMAIL} tai {PHONE}."},
        {"id": "card", "text": f"{PROSE} Kortti {CARD} vanheni viime vuonna."},
        {"id": "clean", "text": PROSE + " Versio 2.10.3 julkaistiin 2024-01-15, hinta 12,50 €."},
        {"id": "short", "text": f"Soita {PHONE}"},  # rejected by quality: must be redacted in the rejected set too
    ]
    for name in ("redacting", "dropping", "keeping"):
        pq.write_table(pa.Table.from_pylist(docs), data / f"{name}.parquet")
    parquet = {"kind": "parquet", "id_field": "id"}
    catalog = write_catalog(
        tmp_path / "catalog",
        *[
            entry(
                name,
                {**parquet, "paths": [f"../data/{name}.parquet"]},
                languages=["fi"],
                pii={"likelihood": "very_likely", "policy": policy},
            )
            for name, policy in (("redacting", "redact"), ("dropping", "drop"), ("keeping", "keep"))
        ],
    )
    stages = {
        "quality": {"enabled": True, "thresholds": {"fi": {"number_words_min_cutoff": 5}}},
        "pii": {"enabled": True, "categories": {"CREDIT_CARD": "drop"}},
    }
    manifest = run(
        load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=stages, keep_rejected="all"))
    )
    out = tmp_path / "out"
    redacting = {doc_id: r for (source, doc_id), r in _rows(out, "data").items() if source == "redacting"}
    contact = redacting["contact"]
    assert EMAIL not in contact["text"] and "PI:EMAIL" in contact["text"] and "PI:PHONE" in contact["text"]
    assert {c["category"]: c["count"] for c in contact["pii_counts"]} == {"EMAIL": 1, "PHONE": 1}
    assert "card" not in redacting  # CREDIT_CARD: drop, whatever the source policy
    clean = redacting["clean"]
    assert "2.10.3" in clean["text"] and "2024-01-15" in clean["text"] and clean["pii_counts"] == []
    kept_by_source = {}
    for row in _rows(out, "data").values():
        kept_by_source.setdefault(row["source"], set()).add(row["source_doc_id"])
    assert "contact" not in kept_by_source.get("dropping", set())
    keeping = list(pq.read_table(next(out.glob("data/fi/keeping/*.parquet"))).to_pylist())
    assert any(EMAIL in r["text"] for r in keeping)  # policy keep: the source's text is untouched
    # Nothing with a value left in the rejected set or the manifest (keep-policy sources aside).
    for path in out.glob("rejected/**/*.parquet"):
        for row in pq.read_table(path).to_pylist():
            for value in (EMAIL, PHONE, CARD):
                assert value not in row["text"], (row["source"], row["source_doc_id"], row["drop_reason"])
    blob = (out / "manifest.json").read_text()
    assert EMAIL not in blob and PHONE not in blob and CARD not in blob
    reasons = manifest["totals"]["dropped_by_reason"]
    assert reasons["pii:contains_credit_card"] >= 2 and reasons["pii:contains_email"] == 1
    cell = next(c for c in manifest["by_source_lang"] if c["source"] == "redacting")
    assert cell["notes"]["pii:EMAIL"] == 1 and cell["notes"]["pii:PHONE"] == 1
    (report,) = [s["report"] for s in manifest["stages"] if s["name"] == "pii"]
    assert report["policies"]["keeping"]["EMAIL"] == "keep" and report["policies"]["keeping"]["CREDIT_CARD"] == "drop"
    assert json.loads(blob)["stages"][-1]["name"] == "pii"


def test_pii_in_every_field_is_redacted_in_data_rejected_and_signatures(tmp_path: Path):
    """Issue #14.4: e-mails, phones and card numbers in `meta`, `url` and `source_doc_id` (and an
    IDN address) used to stay raw in data/, rejected/ and dedup/signatures; a card number in a
    title survived `CREDIT_CARD: drop`."""
    idn = "info@bücher.de"
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    records = [
        {  # PII only outside the text: in the id, the URL (path and percent-encoded query) and meta
            "id": "anna.virtanen@example.fi",
            "url": f"https://example.fi/profiili/{EMAIL}?tel=%2B358%2040%20123%204567",
            "text": PROSE + " Tervetuloa mukaan.",
            "author": {"name": "Anna", "contact": [idn, PHONE]},
        },
        {
            "id": "card-title",
            "url": "https://example.fi/b",
            "text": PROSE + " Toinen teksti.",
            "title": f"Kortti {CARD}",
        },
        {"id": "short", "url": f"https://example.fi/c?mail={EMAIL}", "text": "Liian lyhyt.", "title": idn},
    ]
    (data / "web.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    catalog = write_catalog(
        tmp_path / "catalog",
        entry(
            "web",
            {"kind": "jsonl", "paths": ["../data/web.jsonl"], "id_field": "id", "url_field": "url"},
            languages=["fi"],
            pii={"likelihood": "very_likely", "policy": "redact"},
        ),
    )
    stages = {
        "quality": {"enabled": True, "thresholds": {"fi": {"number_words_min_cutoff": 5}}},
        "dedup": {"enabled": True},
        "pii": {"enabled": True, "categories": {"CREDIT_CARD": "drop"}},
    }
    manifest = run(
        load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=stages, keep_rejected="all"))
    )
    out = tmp_path / "out"
    secrets = [EMAIL, PHONE, CARD, idn, "anna.virtanen@example.fi", "%2B358", "bücher"]
    written = {kind: [] for kind in ("data", "rejected", "dedup")}
    for kind in written:
        for path in out.glob(f"{kind}/**/*.parquet"):
            written[kind] += pq.read_table(path).to_pylist()
    assert written["data"] and written["rejected"] and written["dedup"]
    for kind, rows in written.items():
        for row in rows:
            blob = json.dumps(row, default=str, ensure_ascii=False)
            for secret in secrets:
                assert secret not in blob, (kind, secret, blob)
    (kept,) = written["data"]
    assert kept["source_doc_id"] == "PI:EMAIL" and "PI:EMAIL" in kept["url"] and "PI:PHONE" in kept["url"]
    assert json.loads(kept["meta"]) == {"author": {"contact": ["PI:EMAIL", "PI:PHONE"], "name": "Anna"}}
    assert {c["category"]: c["count"] for c in kept["pii_counts"]} == {"EMAIL": 3, "PHONE": 2}
    reasons = manifest["totals"]["dropped_by_reason"]
    assert reasons["pii:contains_credit_card"] == 1  # the card in the title drops its document
    assert {r["drop_reason"] for r in written["rejected"]} == {"contains_credit_card", "number_of_words"}
