"""Which licence a repository's licence file grants, as an SPDX id.

`resolve_license` picks the repo root's licence file; `identify_license` reads its text with
key phrases of each licence's text and of its usual notices, and answers "unknown" for
anything it does not recognise rather than guess.
"""

from __future__ import annotations

import os
import re

from rootstock.filters.code import COPYLEFT, canonical_license

UNKNOWN = "unknown"

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


# --------------------------------------------------------------------------- the matcher
# Hand-written: no maintained library reads licence texts (notices, dual licences, -or-later) well enough.


def _norm(text: str) -> str:
    # Lower-case words and numbers separated by single spaces: immune to line wrapping,
    # markdown, comment markers and quote styles. "Version 2.1" → "version 2 1".
    return " " + re.sub(r"[^a-z0-9]+", " ", text.lower()).strip() + " "


_SPDX_LINE = re.compile(r"SPDX-License-Identifier:\s*([A-Za-z0-9.+-]+)\s*$", re.MULTILINE)

# What `identify_license` can answer (besides "unknown").
# The SPDX ids the matcher can answer: the common permissive licences and the GNU family.
KNOWN_LICENSES: frozenset[str] = COPYLEFT | {
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
}

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
    "KNOWN_LICENSES",
    "LICENSE_FILES",
    "UNKNOWN",
    "find_license_files",
    "identify_license",
    "resolve_license",
]
