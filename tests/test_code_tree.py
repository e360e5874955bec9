"""sources.code_tree: walking, repo roots, languages, licences, units, records and errors."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from rootstock.errors import InputError
from rootstock.sources import code_tree
from rootstock.sources.code_tree import (
    CodeTreeOptions,
    file_mtime,
    iter_unit,
    plan_tree,
    plan_units,
    unit_name,
)
from rootstock.sources.licenses import identify_license, resolve_license
from rootstock.sources.records import RecordError

MIT = """MIT License

Copyright (c) 2024 Example Author

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.
"""

# Title of the GPL-3.0 text plus its how-to-apply appendix, which itself says "or (at your
# option) any later version": the bare text must still read as -only.
GPL3_TEXT = """                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007

 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
 [... terms and conditions ...]
 If the Program specifies that a certain numbered version of the GNU General
Public License "or any later version" applies to it, you have the option of ...

                     END OF TERMS AND CONDITIONS

            How to Apply These Terms to Your New Programs

    This program is free software: you can redistribute it and/or modify
    it under the terms of the GNU General Public License as published by
    the Free Software Foundation, either version 3 of the License, or
    (at your option) any later version.
"""

LGPL3_TEXT = """                   GNU LESSER GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007

  This version of the GNU Lesser General Public License incorporates
the terms and conditions of version 3 of the GNU General Public
License, supplemented by the additional permissions listed below.
"""

APACHE_NOTICE = """Copyright 2020 Example Corp.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
"""

BSD3 = """Copyright (c) 2019, Someone
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:
1. Redistributions of source code must retain the above copyright notice.
2. Redistributions in binary form must reproduce the above copyright notice.
3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.
"""


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Several checkouts under one directory, plus loose files at the top."""
    root = tmp_path / "checkouts"
    # An MIT repo with C (lowercase .c/.h), C++ (uppercase .C), JS and the usual junk.
    mit = root / "alpha"
    (mit / ".git").mkdir(parents=True)
    _write(mit / ".git" / "config.py", "not code: inside .git\n")
    _write(mit / "LICENSE", MIT)
    _write(mit / "README.md", "# alpha\n")
    _write(mit / "src" / "main.c", '#include "util.h"\nint main(void) { return 0; }\n')
    _write(mit / "src" / "util.h", "int helper(void);\n")
    _write(mit / "src" / "Widget.C", "class Widget {};\n")
    _write(mit / "web" / "app.js", "console.log('é');\n")
    _write(mit / "node_modules" / "left-pad" / "index.js", "module.exports = 1;\n")
    _write(mit / "assets" / "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    _write(mit / "blob.c", b"int x;\x00\x01\x02")  # NUL byte: binary
    _write(mit / "bad.py", b"x = '\xff\xfe'\n")  # not UTF-8
    _write(mit / "big.js", "x" * 3000)  # over max_file_bytes=2048 below
    _write(mit / "edge.js", "y" * 2048)  # exactly max_file_bytes: kept
    os.symlink(mit / "src" / "main.c", mit / "link.c")
    os.mkfifo(mit / "pipe.c")  # reading it would block: must be skipped
    # A submodule inside alpha: `.git` is a file there; Apache licensed.
    sub = mit / "ext" / "sub"
    _write(sub / ".git", "gitdir: ../../.git/modules/sub\n")
    _write(sub / "LICENSE.txt", APACHE_NOTICE)
    _write(sub / "lib.go", "package sub\n")
    # A GPL-3.0 repo (COPYING), an LGPL repo (COPYING + COPYING.LESSER), a repo without licence.
    gpl = root / "beta"
    (gpl / ".git").mkdir(parents=True)
    _write(gpl / "COPYING", GPL3_TEXT)
    _write(gpl / "main.py", "print('hello')\n")
    lgpl = root / "gamma"
    (lgpl / ".git").mkdir(parents=True)
    _write(lgpl / "COPYING", GPL3_TEXT)
    _write(lgpl / "COPYING.LESSER", LGPL3_TEXT)
    _write(lgpl / "lib.rs", "pub fn f() {}\n")
    bare = root / "delta"
    (bare / ".git").mkdir(parents=True)
    _write(bare / "Main.java", "class Main {}\n")
    _write(bare / "build" / "Generated.java", "class Generated {}\n")  # default-excluded dir
    # Loose files at the top: they belong to the tree root itself.
    _write(root / "tool.rb", "puts 1\n")
    _write(root / "notes.txt", "not code\n")
    return root


def _options(**kw) -> CodeTreeOptions:
    return CodeTreeOptions(max_file_bytes=2048, **kw)


def _read_all(units, options):
    out = []
    for unit in units:
        out.extend(iter_unit(unit, [], options))
    return out


def _by_repo_path(results):
    return {(r["repo"], r["path"]): r for _, _, r in results if not isinstance(r, RecordError)}


def test_plan_summary_counts_languages_non_code_and_skips(tree):
    plan = plan_tree([str(tree)], _options(), entry_license="CC-BY-4.0")
    s = plan.summary
    assert s["code_files"] == {
        "c": 2 + 1,  # main.c, util.h (lowercase, missed by ROOTS) + blob.c
        "cpp": 1,  # Widget.C
        "go": 1,
        "java": 1,  # build/Generated.java is excluded
        "javascript": 2 + 1,  # app.js, big.js, edge.js (node_modules excluded)
        "python": 2,  # bad.py, beta/main.py
        "ruby": 1,
        "rust": 1,
    }
    # Not code: counted per extension, never records. LICENSE/COPYING have no extension;
    # nothing inside .git (alpha/.git/config.py, the submodule's .git file) is seen.
    assert s["non_code_files"] == {
        "(none)": 3,  # alpha/LICENSE, beta/COPYING, gamma/COPYING
        ".LESSER": 1,  # gamma/COPYING.LESSER
        ".md": 1,
        ".png": 1,
        ".txt": 2,  # alpha/ext/sub/LICENSE.txt, notes.txt
    }
    assert s["skipped"] == {
        "excluded:build": 1,
        "excluded:node_modules": 1,
        "special_files_skipped": 1,
        "symlinks_skipped": 1,
    }
    repos = {r["repo"]: r for r in s["repos"]}
    assert set(repos) == {"checkouts", "alpha", "alpha/ext/sub", "beta", "gamma", "delta"}
    assert repos["alpha"]["files"] == 8  # its code files, minus the symlink and the FIFO
    assert s["units"] == len(plan.units)


def test_licences_per_repo(tree):
    plan = plan_tree([str(tree)], _options(), entry_license="CC-BY-4.0")
    repos = {r["repo"]: (r["license"], r["license_source"]) for r in plan.summary["repos"]}
    assert repos == {
        "alpha": ("MIT", "file:LICENSE"),
        "alpha/ext/sub": ("Apache-2.0", "file:LICENSE.txt"),
        "beta": ("GPL-3.0-only", "file:COPYING"),
        "gamma": ("LGPL-3.0-only", "file:COPYING.LESSER"),
        "delta": ("CC-BY-4.0", "entry"),  # no licence file: the entry's
        "checkouts": ("CC-BY-4.0", "entry"),
    }


def test_records_languages_and_errors(tree):
    options = _options()
    results = _read_all(plan_units([str(tree)], options, entry_license="CC0-1.0"), options)
    records = _by_repo_path(results)
    assert records[("alpha", "src/main.c")]["language"] == "c"
    assert records[("alpha", "src/util.h")]["language"] == "c"
    assert records[("alpha", "src/Widget.C")]["language"] == "cpp"
    app = records[("alpha", "web/app.js")]
    assert app == {
        "id": "alpha/web/app.js",
        "path": "web/app.js",
        "repo": "alpha",
        "language": "javascript",
        "license": "MIT",
        "license_source": "file:LICENSE",
        "content": "console.log('é');\n",
        "size": 19,  # 18 chars, é is 2 bytes
    }
    assert records[("alpha/ext/sub", "lib.go")]["license"] == "Apache-2.0"
    assert records[("beta", "main.py")]["license"] == "GPL-3.0-only"
    assert records[("checkouts", "tool.rb")]["license"] == "CC0-1.0"
    assert records[("checkouts", "tool.rb")]["license_source"] == "entry"
    assert records[("alpha", "edge.js")]["size"] == 2048
    errors = {r.where: r.code for _, _, r in results if isinstance(r, RecordError)}
    assert errors == {"blob.c": "binary", "bad.py": "invalid_utf8", "big.js": "too_large"}
    # where is the relative path, for records too
    assert all(where == (r.where if isinstance(r, RecordError) else r["path"]) for _, where, r in results)
    # nothing from .git, node_modules, build, symlinks or the FIFO
    paths = {p for _, p in records}
    assert not {"link.c", "pipe.c", "build/Generated.java", "node_modules/left-pad/index.js"} & paths
    assert not any(p.startswith(".git") for p in paths)


def test_units_are_batches_with_rows_numbered_across_the_repo(tree):
    options = _options(files_per_unit=3)
    units = plan_units([str(tree)], options, entry_license="MIT")
    alpha = [u for u in units if u[2] == "alpha"]
    assert [len(u[5]) for u in alpha] == [3, 3, 2]  # 8 code files in alpha
    assert len({unit_name(u, options) for u in alpha}) == 1
    assert unit_name(alpha[0], options) == str((tree / "alpha").resolve())
    rows = [row for u in alpha for row, _, _ in iter_unit(u, [], options)]
    assert rows == list(range(8))
    # plain picklable tuples, deterministic
    assert pickle.loads(pickle.dumps(units)) == units
    assert plan_units([str(tree)], options, entry_license="MIT") == units
    # relative paths sorted within the repo
    flat = [p for u in alpha for p in u[5]]
    assert flat == sorted(flat)


def test_file_mtime(tree):
    options = _options()
    unit = plan_units([str(tree)], options, "MIT")[0]
    first = os.path.join(unit[1], unit[5][0])
    os.utime(first, (1_700_000_000, 1_700_000_000))
    for rel in unit[5][1:]:
        os.utime(os.path.join(unit[1], rel), (1_600_000_000, 1_600_000_000))
    assert file_mtime(unit) == 1_700_000_000


def test_license_entry_mode(tree):
    plan = plan_tree([str(tree)], _options(license="entry"), entry_license="Apache-2.0")
    assert {(r["license"], r["license_source"]) for r in plan.summary["repos"]} == {("Apache-2.0", "entry")}
    with pytest.raises(InputError, match="license: entry"):
        plan_tree([str(tree)], _options(license="entry"))


def test_no_licence_file_and_no_entry_licence(tree):
    repos = {r["repo"]: r for r in plan_tree([str(tree)], _options()).summary["repos"]}
    assert (repos["delta"]["license"], repos["delta"]["license_source"]) == ("unknown", "none")


def test_unrecognised_licence_file_is_unknown_not_the_entry(tmp_path):
    _write(tmp_path / "LICENSE", "All rights reserved. Ask us first.\n")
    assert resolve_license(str(tmp_path), "MIT") == ("unknown", "file:LICENSE")
    _write(tmp_path / "LICENSE-MIT", MIT)  # a later candidate that does identify wins
    assert resolve_license(str(tmp_path), None) == ("MIT", "file:LICENSE-MIT")


def test_licence_file_names_are_case_insensitive(tmp_path):
    _write(tmp_path / "license.md", BSD3)
    assert resolve_license(str(tmp_path)) == ("BSD-3-Clause", "file:license.md")


def test_custom_exclude_patterns(tree):
    # Setting exclude replaces the defaults; "/" patterns match the path from the tree root.
    options = _options(exclude=["alpha/src/*", "*.js"])
    plan = plan_tree([str(tree)], options, "MIT")
    files = {(u[2], p) for u in plan.units for p in u[5]}
    assert ("alpha", "src/main.c") not in files
    assert ("delta", "build/Generated.java") in files  # build no longer excluded
    assert not any(p.endswith(".js") for _, p in files)  # node_modules contents are .js too
    assert plan.summary["skipped"]["excluded:alpha/src/*"] == 3


def test_several_trees_and_bad_paths(tree, tmp_path):
    other = tmp_path / "other"
    _write(other / "x.ts", "let x = 1;\n")
    plan = plan_tree([str(tree), str(other)], _options(), "MIT")
    assert {"checkouts", "other"} <= {r["repo"] for r in plan.summary["repos"]}
    with pytest.raises(InputError, match="overlap"):
        plan_tree([str(tree), str(tree / "alpha")], _options())
    with pytest.raises(InputError, match="reads directories; this path is missing"):
        plan_tree([str(tmp_path / "missing")], _options())
    with pytest.raises(InputError, match="reads directories; this path is a file"):
        plan_tree([str(other / "x.ts")], _options())
    with pytest.raises(InputError, match="twice"):
        plan_tree([str(tree), str(tree)], _options())


def test_options_forbid_unknown_keys():
    with pytest.raises(ValidationError):
        CodeTreeOptions(files_per_units=10)
    with pytest.raises(ValidationError):
        CodeTreeOptions(license="repo")
    assert CodeTreeOptions().max_file_bytes == 1 << 20
    assert "node_modules" in CodeTreeOptions().exclude


def test_file_that_grows_past_the_limit_after_planning(tmp_path):
    _write(tmp_path / "a.py", "x = 1\n")
    options = CodeTreeOptions(max_file_bytes=10)
    units = plan_units([str(tmp_path)], options, "MIT")
    _write(tmp_path / "a.py", "x = 1\n" * 10)
    ((_, _, err),) = list(iter_unit(units[0], [], options))
    assert isinstance(err, RecordError) and err.code == "too_large"
    os.remove(tmp_path / "a.py")
    ((_, _, err),) = list(iter_unit(units[0], [], options))
    assert err.code == "unreadable"


def test_language_by_extension_is_case_sensitive():
    assert code_tree.language_of("a.c") == "c"
    assert code_tree.language_of("a.h") == "c"
    assert code_tree.language_of("a.C") == "cpp"
    assert code_tree.language_of("a.H") == "cpp"
    assert code_tree.language_of("a.PY") is None
    assert code_tree.language_of("Makefile") is None
    assert code_tree.language_of(".c") is None  # a dotfile, not a C file


@pytest.mark.parametrize(
    "text, expected",
    [
        (MIT, "MIT"),
        ("Licensed under the MIT license.\n", "MIT"),
        (APACHE_NOTICE, "Apache-2.0"),
        (BSD3, "BSD-3-Clause"),
        (BSD3.split("3. Neither")[0], "BSD-2-Clause"),
        (GPL3_TEXT, "GPL-3.0-only"),
        ("Copyright 2001 X. Released under GPLv3 or later.\n\n" + GPL3_TEXT, "GPL-3.0-or-later"),
        (
            "This program is free software; you can redistribute it and/or modify it under the terms of\n"
            "the GNU General Public License as published by the Free Software Foundation; either\n"
            "version 2 of the License, or (at your option) any later version.\n",
            "GPL-2.0-or-later",
        ),
        ("GNU GENERAL PUBLIC LICENSE\nVersion 2, June 1991\n", "GPL-2.0-only"),
        (LGPL3_TEXT, "LGPL-3.0-only"),
        ("GNU LESSER GENERAL PUBLIC LICENSE\nVersion 2.1, February 1999\n", "LGPL-2.1-only"),
        ("GNU AFFERO GENERAL PUBLIC LICENSE\nVersion 3, 19 November 2007\n", "AGPL-3.0-only"),
        # GPL-3.0 §13 names the AGPL; that mention must not make it AGPL.
        (
            GPL3_TEXT + "\nversion 3 of the GNU Affero General Public License into a single combined work\n",
            "GPL-3.0-only",
        ),
        # MPL-2.0 names GPL/LGPL/AGPL as Secondary Licenses; it stays MPL-2.0.
        (
            'Mozilla Public License Version 2.0\n1.12. "Secondary License" means either the GNU General\n'
            "Public License, Version 2.0, the GNU Lesser General Public License, Version 2.1, the GNU\n"
            "Affero General Public License, Version 3.0, or any later versions of those licenses.\n",
            "MPL-2.0",
        ),
        (
            "Permission to use, copy, modify, and/or distribute this software for any purpose with or\n"
            "without fee is hereby granted, provided that the above copyright notice and this\n"
            "permission notice appear in all copies.\n",
            "ISC",
        ),
        ("This is free and unencumbered software released into the public domain.\n", "Unlicense"),
        ("Creative Commons Legal Code\n\nCC0 1.0 Universal\n", "CC0-1.0"),
        ("// SPDX-License-Identifier: GPL-2.0+\n", "GPL-2.0-or-later"),
        ("SPDX-License-Identifier: LGPL-2.1-or-later\n", "LGPL-2.1-or-later"),
        ("Licensed under the GPL.\n", "unknown"),  # no version: not guessed
        ("All rights reserved.\n", "unknown"),
        ("", "unknown"),
    ],
)
def test_identify_license(text, expected):
    assert identify_license(text) == expected
