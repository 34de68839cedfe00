#!/usr/bin/env python3
"""How much of src/ the fault-injection suite reaches.

Runs the fault suite (test_fault, with the interposer preloaded) with OSPP_FAULT_REPORT set, reads
back which (call name, libc symbol) pairs it failed, and matches them against the call sites in
src/*.cpp: a site `::symbol(` counts as covered when a case failed that symbol under a call name
the enclosing function reports errors with. A function's call names are
  - the string literals in it (sys::fail("x"), check("x", ...)), and the names of string constants
    the file defines (pidfile.cpp: `constexpr const char* step = "pidfile"`);
  - for a name table, an `enum class E { a, b, ... }` followed by `constexpr const char* E_names[] =
    {"a-name", ...}` (daemon.cpp's steps, whose failures open() reports as step_names[failed]): the
    name of every `E::x` the function mentions;
  - the string literals of every constexpr function of the file it calls (a name table in function
    form: fcntl.cpp's set_lock_command);
  - those of every function in the same file that calls it, directly or through other helpers
    (close_listed_fds reports through close_fds and detach_steps as "close_fds").
Prints the injection points exercised, the interposable call sites, how many are covered, and
the ones that are not.

usage: coverage.py SOURCE_ROOT TEST_FAULT_BINARY FAULT_MODULE
"""
import os
import re
import subprocess
import sys
import tempfile

root, binary, module = sys.argv[1:4]
interposer = open(os.path.join(root, "test", "fault", "fault_inject.c")).read()
symbols = set(re.findall(r"OSPP_FAULT_\w+\((?:[\w *]+, )?(\w+),", interposer))
symbols |= set(re.findall(r'should_fail\("(\w+)"\)', interposer))
symbols -= {"name", "symbol", "params", "ret"}  # macro parameters, not functions

with tempfile.NamedTemporaryFile(delete=False) as f:
    report_path = f.name
env = dict(os.environ, LD_PRELOAD=module, OSPP_FAULT_REPORT=report_path)
run = subprocess.run([binary], env=env, capture_output=True, text=True)
pairs = set()
for line in open(report_path):
    call, _, sym = line.strip().partition("\t")
    pairs.add((call, sym))
os.unlink(report_path)
if run.returncode != 0:
    print(run.stdout[-3000:])

site_re = re.compile(r"(?<![\w>])::(\w+)\s*\(")  # ::call(, not a member definition x::open(
literal_re = re.compile(r'"([\w()]+)"')
constant_re = re.compile(r'constexpr const char\* (\w+) = "([\w()]+)";')
table_re = re.compile(r"enum class (\w+)[^{]*\{([^}]*)\};\s*constexpr const char\* \1_names\[\] = \{([^}]*)\};")
exercised_names = {call for call, _ in pairs}


def calls(body, function):
    """Whether body calls `function` unqualified or through a namespace: not ::f( (libc), not
    x.f( or x->f( (a member)."""
    for m in re.finditer(r"\b" + re.escape(function) + r"\s*\(", body):
        before = body[:m.start()]
        if before.endswith((".", "->")) or (before.endswith("::") and not re.search(r"\w::$", before)):
            continue
        return True
    return False


sites, covered, missing = 0, 0, []
for name in sorted(os.listdir(os.path.join(root, "src"))):
    if not name.endswith(".cpp"):
        continue
    text = open(os.path.join(root, "src", name)).read()
    lines = text.split("\n")
    # Names that stand for call names in this file: string constants, and name tables' entries.
    constants = dict(constant_re.findall(text))
    for enum, members, strings in table_re.findall(text):
        members = [m.strip() for m in members.replace("\n", " ").split(",") if m.strip()]
        for member, string in zip(members, re.findall(r'"([^"]*)"', strings)):
            constants[f"{enum}::{member}"] = string
    # Split into top-level definitions (functions, and structs whose methods hold sites) by brace
    # depth; namespace braces do not nest them.
    depth, start, funcs = 0, 0, []
    for i, line in enumerate(lines):
        if line.startswith("namespace") or line.startswith("}  // namespace"):
            continue
        if depth == 0 and "{" in line and not line.startswith("}"):
            start = i
            # A signature split over lines: the function starts at its unindented first line.
            while start > 0 and lines[start][:1] in (" ", ")") and lines[start - 1].strip():
                start -= 1
        before = depth
        depth += line.count("{") - line.count("}")
        if before > 0 and depth == 0:
            funcs.append((start, i))
    bodies = ["\n".join(lines[a:b + 1]) for a, b in funcs]
    own = []
    for body in bodies:
        found = set(literal_re.findall(body))
        found |= {string for key, string in constants.items() if re.search(r"\b" + re.escape(key) + r"\b", body)}
        own.append(found & exercised_names)
    fname = []
    for a, _ in funcs:
        m = re.search(r"(\w+)\s*\(", lines[a].split("(")[0] + "(") if "(" in lines[a] else None
        fname.append(m.group(1) if m else None)
    # A constexpr function holding literals is a name table in function form (fcntl.cpp's
    # set_lock_command): a function that calls it reports under its names.
    for k, (a, _) in enumerate(funcs):
        if fname[k] and lines[a].startswith("constexpr"):
            for j, body in enumerate(bodies):
                if j != k and calls(body, fname[k]):
                    own[j] |= own[k]
    # A helper reports under the names of the functions that call it, through any chain of calls.
    names = [set(n) for n in own]
    changed = True
    while changed:
        changed = False
        for k in range(len(funcs)):
            if not fname[k]:
                continue
            for j, body in enumerate(bodies):
                if j != k and not names[j] <= names[k] and calls(body, fname[k]):
                    names[k] |= names[j]
                    changed = True
    for k, (a, b) in enumerate(funcs):
        for i in range(a, b + 1):
            for sym in site_re.findall(lines[i]):
                norm = sym[:-2] if sym.endswith("64") and sym[:-2] in symbols else sym
                if norm not in symbols:
                    continue
                sites += 1
                if any((n, norm) in pairs for n in names[k]):
                    covered += 1
                else:
                    missing.append(f"src/{name}:{i + 1}: {sym}")

print(f"fault injection: {len(pairs)} (call, symbol) injection points exercised")
print(f"fault injection: {covered} of {sites} interposable call sites in src/ covered")
for m in missing:
    print("  not covered:", m)
sys.exit(run.returncode)
