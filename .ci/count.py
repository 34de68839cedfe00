#!/usr/bin/env python3
"""Counts test results over CI's runs and prints one line: "N passed, N failed, N skipped".

Arguments: meson testlog.json files, and plain log files of other runs. A doctest suite counts
its test cases (the "[ospp] test cases: ..." line its main prints); a suite whose process failed
without a failed test case (a crash, a timeout, a sanitizer report) counts one more failure.
Other tests count one each. Plain logs contribute their "[ospp] test cases:" and
"consumer|wrap fallback|fuzz|static analysis|differential as nobody: N passed, N failed" lines.
"""
import json
import re
import sys

CASES = re.compile(r"\[ospp\] test cases: (\d+) passed, (\d+) failed, (\d+) skipped")
# consumer, wrap-fallback, fuzz, static-analysis and nobody's differential summaries:
# "<what>: N passed, N failed"
OTHER = re.compile(r"^(?:consumer|wrap fallback|fuzz|static analysis|differential as nobody): (\d+) passed, (\d+) failed",
                   re.M)

passed = failed = skipped = 0


def add_cases(text):
    global passed, failed, skipped
    found = False  # False: no summary line; True: one; "failed": one with failed test cases
    for p, f, s in CASES.findall(text):
        passed, failed, skipped = passed + int(p), failed + int(f), skipped + int(s)
        found = "failed" if int(f) or found == "failed" else True
    return found


for path in sys.argv[1:]:
    try:
        text = open(path, errors="replace").read()
    except OSError:
        print(f"count: {path} missing: counted as one failure", file=sys.stderr)
        failed += 1
        continue
    if path.endswith(".json"):
        for line in text.splitlines():
            if not line.strip():
                continue
            t = json.loads(line)
            ok = t.get("result") in ("OK", "EXPECTEDFAIL")
            found = add_cases(t.get("stdout", "") or "")
            if not found:
                passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
            elif not ok and found != "failed":
                failed += 1
            if not ok:
                print(f"count: {t.get('name')} {t.get('result')}", file=sys.stderr)
    else:
        add_cases(text)
        for p, f in OTHER.findall(text):
            passed, failed = passed + int(p), failed + int(f)

print(f"{passed} passed, {failed} failed, {skipped} skipped")
