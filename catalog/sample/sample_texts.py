"""The bundled sample's sentence pools (catalog/sample/texts/<lang>.txt), for tests and benchmarks.

Each file lists sentences under `@topic …` headers with `{placeholders}`; generated corpora
reuse them so that benchmarks and tests run on real prose in every sample language.
"""

from __future__ import annotations

import re
from pathlib import Path

TEXTS = Path(__file__).parent / "texts"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def topic_sentences(lang: str, fill: dict[str, str] | str = "7") -> list[str]:
    """Sentences under @topic headers; placeholders from `fill` (a value, or a name → value map)."""
    values = fill if isinstance(fill, dict) else {}
    default = fill if isinstance(fill, str) else "7"
    out, in_topic = [], False
    for line in (TEXTS / f"{lang}.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("@"):
            in_topic = line.startswith("@topic")
        elif in_topic and line.strip() and not line.startswith("#"):
            out.append(_PLACEHOLDER.sub(lambda m: values.get(m.group(1), default), line.strip()))
    return out
