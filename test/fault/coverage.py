#!/usr/bin/env python3
"""How much of src/ the fault-injection suite reaches.

Runs the fault suite (test_fault, with the interposer preloaded) with OSPP_FAULT_REPORT set, reads
back which (call name, libc symbol) pairs it failed, and matches them against the call sites in
src/*.cpp: a site `::symbol(` counts as covered when a case failed that symbol under a call name
the enclosing function reports errors with (a string literal in it, or in a caller in the same
file for a helper that is handed its call name).
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
symbols = set(re.findall(r"OSPP_FAULT_\w+\((?:[\w ]+, )?(\w+),", interposer))
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
exercised_names = {call for call, _ in pairs}
sites, covered, missing = 0, 0, []
for name in sorted(os.listdir(os.path.join(root, "src"))):
    if not name.endswith(".cpp"):
        continue
    lines = open(os.path.join(root, "src", name)).read().split("\n")
    # Split into top-level functions by brace depth.
    depth, start, funcs = 0, 0, []
    for i, line in enumerate(lines):
        if line.startswith("namespace") or line.startswith("}  // namespace"):
            continue  # namespace braces do not nest functions
        if depth == 0 and "{" in line and not line.startswith(("namespace", "}", "struct", "class", "enum")):
            start = i
            # A signature split over lines: the function starts at its unindented first line.
            while start > 0 and lines[start][:1] in (" ", ")") and lines[start - 1].strip():
                start -= 1
        before = depth
        depth += line.count("{") - line.count("}")
        if before > 0 and depth == 0:
            funcs.append((start, i))
    # A function's call names: the string literals in it that the suite reported as call names
    # (sys::fail("x"), check("x", ...), command(..., "fcntl(F_GETPIPE_SZ)")), plus, for a helper
    # that is handed its name, the call names of the functions in the same file that call it.
    bodies = ["\n".join(lines[a:b + 1]) for a, b in funcs]
    own = [set(literal_re.findall(body)) & exercised_names for body in bodies]
    fname = []
    for a, _ in funcs:
        m = re.search(r"(\w+)\s*\(", lines[a].split("(")[0] + "(") if "(" in lines[a] else None
        fname.append(m.group(1) if m else None)
    for k, (a, b) in enumerate(funcs):
        names = set(own[k])
        if fname[k]:
            call = re.compile(r"\b" + re.escape(fname[k]) + r"\s*\(")
            for j, body in enumerate(bodies):
                if j != k and call.search(body):
                    names |= own[j]
        for i in range(a, b + 1):
            for sym in site_re.findall(lines[i]):
                norm = sym[:-2] if sym.endswith("64") and sym[:-2] in symbols else sym
                if norm not in symbols:
                    continue
                sites += 1
                if any((n, norm) in pairs for n in names):
                    covered += 1
                else:
                    missing.append(f"src/{name}:{i + 1}: {sym}")

print(f"fault injection: {len(pairs)} (call, symbol) injection points exercised")
print(f"fault injection: {covered} of {sites} interposable call sites in src/ covered")
for m in missing:
    print("  not covered:", m)
sys.exit(run.returncode)
