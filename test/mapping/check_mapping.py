#!/usr/bin/env python3
"""Checks docs/python-mapping.tsv, the map from Python's os/resource/fcntl/daemon names to ospp.

For every row:
  - module and python_name are a row of shared/python-api.tsv (when that file is at hand);
  - no Python name is mapped twice;
  - a row with a C++ name names an existing public header, and the C++ name is declared by it:
    each header gets a translation unit that includes only that header and names every mapped
    entity inside an uninstantiated template, so that qualified name lookup (which happens at
    definition time) fails to compile for a name that is not declared — whatever kind of entity
    it is (function, overload set, type, enumerator, member, variable);
  - a row without a C++ name says why in its note.
Prints one line per problem and exits 1 if there was any.

usage: check_mapping.py SOURCE_ROOT CXX [CXXFLAGS...]
"""
import csv
import os
import subprocess
import sys
import tempfile

# ospp's namespaces, which a docs line may name on their own (not callable, so checked apart).
NAMESPACES = {"ospp::resource", "ospp::fcntl", "ospp::daemon"}


def main():
    root, cxx, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
    tsv = os.path.join(root, "docs", "python-mapping.tsv")
    api_path = os.path.join(root, "..", "shared", "python-api.tsv")
    problems = []

    api = None
    if os.path.exists(api_path):
        with open(api_path, newline="") as f:
            api = {(r["module"], r["name"]) for r in csv.DictReader(f, delimiter="\t")}

    by_header = {}
    seen = set()
    with open(tsv, newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    if not rows or rows[0][:5] != ["module", "python_name", "cpp_name", "header", "note"]:
        problems.append("python-mapping.tsv: the first line must be the column names")
    for line_no, row in enumerate(rows[1:], start=2):
        if not row or row[0].startswith("#"):
            continue
        where = f"python-mapping.tsv:{line_no}"
        if len(row) != 5:
            problems.append(f"{where}: {len(row)} columns, want 5")
            continue
        module, name, cpp_name, header, note = (c.strip() for c in row)
        key = (module, name)
        if key in seen:
            problems.append(f"{where}: {module}.{name} is mapped twice")
        seen.add(key)
        if api is not None and key not in api:
            problems.append(f"{where}: {module}.{name} is not in shared/python-api.tsv")
        if not cpp_name:
            if not note:
                problems.append(f"{where}: {module}.{name} has no C++ name and no note saying why")
            continue
        if not os.path.exists(os.path.join(root, "include", header)):
            problems.append(f"{where}: header {header!r} does not exist")
            continue
        by_header.setdefault(header, []).append((where, module, name, cpp_name))

    for header, entries in sorted(by_header.items()):
        problems += check_header(root, cxx, flags, header, entries)

    for p in problems:
        print(p)
    checked = sum(len(v) for v in by_header.values())
    print(f"{len(seen)} rows, {checked} C++ names checked in {len(by_header)} headers, {len(problems)} problems")
    return 1 if problems else 0


def undeclared(root, cxx, flags, header, names):
    """Compiles one translation unit that includes `header` and names each of `names` inside an
    uninstantiated template (a namespace in `namespaces` with a using-directive instead).
    Returns ({index in names: compiler error}, stderr when it failed without naming one)."""
    lines = [f"#include <{header}>"]
    for i, name in enumerate(names):
        lines.append(f"#line {i + 1000}")
        if name in NAMESPACES:
            lines.append(f"namespace check_{i} {{ using namespace {name}; }}")
        else:
            lines.append(f"template <class... A> void check_{i}(A... a) {{ (void)sizeof(({name}(a...), 0)); }}")
    with tempfile.NamedTemporaryFile("w", suffix=".cpp", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        tu = f.name
    try:
        cmd = [cxx, "-std=c++20", "-fsyntax-only", "-D_GNU_SOURCE", "-I", os.path.join(root, "include"), *flags, tu]
        out = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(tu)
    errors = {}
    for line in out.stderr.splitlines():
        # "...tmpXXXX.cpp:1003:...: error: ..." -> names[3]
        parts = line.split(":")
        if len(parts) > 3 and parts[0] == tu and "error" in line and parts[1].isdigit() and int(parts[1]) >= 1000:
            errors.setdefault(int(parts[1]) - 1000, line.split("error:", 1)[1].strip())
    return errors, (out.stderr if out.returncode != 0 and not errors else "")


def check_header(root, cxx, flags, header, entries):
    errors, failure = undeclared(root, cxx, flags, header, [cpp_name for _, _, _, cpp_name in entries])
    problems = []
    for i, error in sorted(errors.items()):
        where, module, name, cpp_name = entries[i]
        problems.append(f"{where}: {module}.{name} -> {cpp_name} is not declared by {header}: {error}")
    if failure:
        problems.append(f"{header}: does not compile on its own:\n{failure[:2000]}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
