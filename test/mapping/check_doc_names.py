#!/usr/bin/env python3
"""Checks that every ospp name the documentation mentions is declared by the public headers.

The docs are for learners who copy what they read, so a renamed function or enumerator that a guide
still spells the old way is a bug. This reads README.md, docs/*.md, docs/*.1 and the comments of
include/ospp/*.hpp, collects every qualified name `ospp::a::b` (the longest run of `::`-separated
identifiers), and compiles one translation unit that includes <ospp/ospp.hpp> and names each of them
inside an uninstantiated template (check_mapping.undeclared: qualified name lookup happens at
definition time, whatever kind of entity the name is). Prints one line per undeclared name, with
the first place it appears.

usage: check_doc_names.py SOURCE_ROOT CXX [CXXFLAGS...]
"""
import glob
import os
import re
import sys

from check_mapping import undeclared

NAME = re.compile(r"\bospp(?:::[A-Za-z_]\w*)+")


def sources(root):
    files = [os.path.join(root, "README.md")]
    files += sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    files += sorted(glob.glob(os.path.join(root, "docs", "*.1")))
    headers = sorted(glob.glob(os.path.join(root, "include", "ospp", "*.hpp")))
    for path in files + headers:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line_no, line in enumerate(f, start=1):
                if path.endswith(".hpp"):
                    # comments only: the code itself is checked by the compiler already
                    if "//" not in line:
                        continue
                    line = line.split("//", 1)[1]
                yield os.path.relpath(path, root), line_no, line


def main():
    root, cxx, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
    first_seen = {}
    for where, line_no, line in sources(root):
        for name in NAME.findall(line):
            first_seen.setdefault(name, f"{where}:{line_no}")
    names = sorted(first_seen)
    errors, failure = undeclared(root, cxx, flags, "ospp/ospp.hpp", names)
    problems = [f"{first_seen[names[i]]}: {names[i]} is not declared: {e}" for i, e in sorted(errors.items())]
    if failure:
        problems.append(f"the check does not compile:\n{failure[:2000]}")
    for p in problems:
        print(p)
    print(f"{len(names)} ospp names in the docs and header comments, {len(problems)} undeclared")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
