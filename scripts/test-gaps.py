#!/usr/bin/env python3
"""Checks the project's test rule mechanically: "every wrapper has a test that exercises its
success path and at least one error path (the errno and the message)".

Lists every public function declared in include/ospp/*.hpp (free functions and public member
functions; not operators, constructors, destructors, deleted/defaulted members, names in a
`detail` namespace, begin/end, nor members defined inline as a single `return`: the accessors
and factories of value types) and reports, grouped by header, those that no test in test/*_test.cpp
  (a) calls, or
  (b) checks an error of, with CHECK_ERRNO, a python_parity case (OSPP_ERROR_OF, which compares
      errno and message with Python's), the failed_with(result, errno, message) of tests that
      check inside a child, or a variable whose .error().message() a test compares.

It is a text heuristic, not a C++ parser. Overloads count as one name. A free function counts as
called when a test spells it qualified (ospp::x(, fc::x(, res::x(): an unqualified x( would be the
C function. A member counts when a test calls .x( / ->x( / Class::x( in a file that names the
class or includes its header. CHECK_ERRNO(var, ...) counts the expression var was set to, and a
table of results looped over by code that compares each message counts its calls. A fallible function whose error cannot be provoked portably (ENOMEM, EFAULT only) is
waived by a comment in a test file, "// no error test for ospp::x: <why>", and listed as waived.
A check the text cannot see (the error travels from a daemon to the test as text) is stated by a
comment, "// errors of ospp::x are checked by: <how>", and listed only with --all.
Functions that cannot fail (no result<> return) need no error test and are not listed
under (b). Usage: scripts/test-gaps.py [--all] [--root DIR]
"""
import argparse
import pathlib
import re
import sys


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    out = []
    for line in text.splitlines():
        # Drop // comments outside string literals (good enough: no header has "//" in a string).
        i = line.find("//")
        if i >= 0 and line.count('"', 0, i) % 2 == 0:
            line = line[:i]
        if line.lstrip().startswith("#"):
            line = ""
        out.append(line)
    return "\n".join(out)


def top_level_paren(stmt):
    """Index of the first '(' outside template angle brackets, or -1."""
    angle = 0
    for i, c in enumerate(stmt):
        if c == "<":
            angle += 1
        elif c == ">":
            angle = max(0, angle - 1)
        elif c == "(" and angle == 0:
            return i
        elif c == "=" and angle == 0 and not stmt[i:].startswith("=="):
            return -1  # a data member or variable with an initializer, not a function
    return -1


def parse_header(path):
    """Yields (qualified name, returns_result, inline_accessor) for each public function."""
    text = strip_comments(path.read_text())
    scopes = []  # (kind, name, public)
    stmt = ""
    i = 0
    found = []
    pending_fn = None  # a function whose body we are about to skip
    while i < len(text):
        c = text[i]
        if c == '"':  # skip string literals
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            stmt += text[i : j + 1]
            i = j + 1
            continue
        if c == "{":
            in_body = any(k == "body" for k, _, _ in scopes)
            head = re.sub(r"^template\s*<[^{]*?>\s*(?=(class|struct|union)\b)", "", stmt.strip())
            m_cls = re.search(r"\b(class|struct|union)\s+(?:\[\[[^\]]*\]\]\s*)?(\w+)[^()]*$", head)
            m_ns = re.match(r"(?:inline\s+)?namespace\b\s*([\w:]*)\s*$", head)
            if in_body:
                scopes.append(("body", "", False))
            elif m_ns:
                scopes.append(("namespace", m_ns.group(1), True))
            elif re.search(r"\benum\b", head) and "(" not in head:
                scopes.append(("body", "", False))
            elif m_cls and top_level_paren(head) < 0:
                scopes.append(("class", m_cls.group(2), m_cls.group(1) != "class"))
            else:
                fn = consider(head, scopes, path)
                if fn:
                    pending_fn = (fn, i)
                scopes.append(("fnbody" if fn else "body", "", False))
            stmt = ""
        elif c == "}":
            kind = scopes.pop()[0] if scopes else None
            if kind == "fnbody" and pending_fn:
                fn, start = pending_fn
                body = text[start + 1 : i].strip()
                head_quals = fn[3]
                single_return = body.startswith("return") and body.count(";") == 1
                accessor = fn[4] and single_return
                found.append((fn[0], fn[1], fn[2], accessor))
                pending_fn = None
            stmt = ""
        elif c == ";":
            if not any(k in ("body", "fnbody") for k, _, _ in scopes):
                fn = consider(stmt.strip(), scopes, path)
                if fn:
                    found.append((fn[0], fn[1], fn[2], False))
            stmt = ""
        elif c == ":" and scopes and scopes[-1][0] == "class" and re.search(r"\b(public|private|protected)\s*$", stmt):
            access = re.search(r"\b(public|private|protected)\s*$", stmt).group(1)
            kind, name, _ = scopes[-1]
            scopes[-1] = (kind, name, access == "public")
            stmt = ""
        else:
            stmt += c
        i += 1
    return found


def consider(stmt, scopes, path):
    """(qualified name, returns result, is member, declaration text, inside a class) or None."""
    if not stmt or any(k in ("body", "fnbody") for k, _, _ in scopes):
        return None
    if any(k == "class" and not public for k, _, public in scopes):
        return None
    if any(k == "namespace" and "detail" in n for k, n, _ in scopes):
        return None
    stmt = re.sub(r"\s+", " ", stmt)
    stmt = re.sub(r"^template ?<.*?> ?(?=[\w\[])", "", stmt)
    if re.match(r"(using|typedef|friend|static_assert|return)\b", stmt):
        return None
    if re.search(r"=\s*(delete|default)\s*$", stmt):
        return None
    p = top_level_paren(stmt)
    if p < 0:
        return None
    m = re.search(r"([~\w]+)\s*$", stmt[:p])
    if not m:
        return None
    name = m.group(1)
    before = stmt[: m.start()].strip()
    classes = [n for k, n, _ in scopes if k == "class"]
    if name in ("begin", "end"):
        return None  # the range protocol: exercised by range-for, not by name
    if name.startswith("operator") or "operator" in before.split()[-1:] or name.startswith("~"):
        return None
    if classes and name == classes[-1]:
        return None  # constructor
    if not before or before.endswith("::") or name.isupper() or re.fullmatch(r"[A-Z_0-9]+", name):
        return None  # a constructor call, macro invocation
    if re.search(r"\bexplicit\b", before):
        return None
    namespaces = [n for k, n, _ in scopes if k == "namespace" and n]
    qual = "::".join(namespaces + classes + [name])
    returns_result = bool(re.search(r"\b(result|transfer_result)\s*<", before))
    return (qual, returns_result, bool(classes), stmt[p:], bool(classes))


def balanced_args(text, open_index):
    depth = 0
    for j in range(open_index, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return text[open_index + 1 : j]
    return text[open_index + 1 :]


MESSAGE_COMPARED = r"\.error\(\)\.message\(\)\s*(?:==|!=)"


def error_regions(text):
    """Text of expressions whose errno and message a test checks."""
    regions = []
    for m in re.finditer(r"\b(CHECK_ERRNO|OSPP_ERROR_OF|failed_with)\s*\(", text):
        args = balanced_args(text, m.end() - 1)
        regions.append(args)
        # CHECK_ERRNO(var, ...): the expression var was declared with, earlier in the file.
        var = re.match(r"\s*([A-Za-z_]\w*)\s*[,.)-]", args)
        if var:
            decls = list(re.finditer(rf"\b{var.group(1)}\s*=\s*([^;]*);", text[: m.start()]))
            if decls:
                regions.append(decls[-1].group(1))
    # auto r = EXPR; ... r.error().message() ==/!= ...   (within the next lines)
    for m in re.finditer(r"\b(?:const )?auto&?&? (\w+) = ([^;]*);", text):
        var = m.group(1)
        after = text[m.end() : m.end() + 1500]
        if re.search(rf"\b{var}{MESSAGE_COMPARED}|\b{var}\.error\(\)\.message\(\)\.rfind", after):
            regions.append(m.group(2))
    # A table of results, NAME[] = {...} or NAME{...}, looped over (": NAME)") by code that
    # compares each one's message.
    for m in re.finditer(r"\b(\w+)(?:\[\])?\s*=?\s*\{", text):
        name = m.group(1)
        after = text[m.end() : m.end() + 3000]
        loop = re.search(rf":\s*{name}\s*\)", after)
        if loop and re.search(MESSAGE_COMPARED, after[loop.end() : loop.end() + 800]):
            regions.append(balanced_braces(text, m.end() - 1))
    # CHECK(ospp::x(...).error().message() == "...")
    for m in re.finditer(rf"[^;{{}}]*{MESSAGE_COMPARED}[^;]*;", text):
        regions.append(m.group(0))
    return regions


def balanced_braces(text, open_index):
    depth = 0
    for j in range(open_index, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[open_index + 1 : j]
    return text[open_index + 1 :]


def call_pattern(qual, is_member):
    parts = qual.split("::")
    name = parts[-1]
    if is_member:
        cls = parts[-2]
        return re.compile(rf"(?:\.|->|\b{cls}::)\s*{name}\s*\(")
    return re.compile(rf"(?<![\w:])(?:(?!std::)\w+::)+{name}\s*\(")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent, type=pathlib.Path)
    ap.add_argument("--all", action="store_true", help="list every function, not only the gaps")
    args = ap.parse_args()
    headers = sorted((args.root / "include/ospp").glob("*.hpp"))
    raw = {p: p.read_text() for p in sorted((args.root / "test").glob("*_test.cpp"))}
    tests = {p: strip_comments(t) for p, t in raw.items()}
    regions = {p: error_regions(t) for p, t in tests.items()}
    waived = {}
    stated = {}
    for p in tests:
        for m in re.finditer(r"// no error test for ((?:\w+::)*\w+): (.*)", raw[p]):
            waived[m.group(1)] = f"{p.name}: {m.group(2).strip()}"
        for m in re.finditer(r"// errors of ((?:\w+::)*\w+) are checked by: (.*)", raw[p]):
            stated[m.group(1)] = f"{p.name}: {m.group(2).strip()}"

    total = missing_a = missing_b = waived_b = 0
    for h in headers:
        if h.name == "ospp.hpp":
            continue
        funcs = {}
        for qual, returns_result, is_member, accessor in parse_header(h):
            if accessor:
                continue
            f = funcs.setdefault(qual, {"result": False, "member": is_member, "overloads": 0})
            f["result"] |= returns_result
            f["overloads"] += 1
        lines = []
        for qual, f in funcs.items():
            total += 1
            pat = call_pattern(qual, f["member"])
            cls = qual.split("::")[-2] if f["member"] else None
            # A member: in files that name its class or include its header (auto hides the class).
            files = [p for p, t in tests.items()
                     if not cls or re.search(rf"\b{cls}\b", t) or f'"ospp/{h.name}"' in raw[p]]
            called = any(pat.search(tests[p]) for p in files)
            checked = any(pat.search(r) for p in files for r in regions[p])
            gaps = []
            if not called:
                gaps.append("(a) never called")
                missing_a += 1
            if f["result"] and not checked and qual in stated:
                if args.all:
                    gaps.append("(b) checked through a helper, " + stated[qual])
            elif f["result"] and not checked and qual in waived:
                gaps.append("(b) waived, " + waived[qual])
                waived_b += 1
            elif f["result"] and not checked:
                gaps.append("(b) no errno+message check")
                missing_b += 1
            if gaps or args.all:
                lines.append(f"  {qual}{'' if f['overloads'] == 1 else ' [%d overloads]' % f['overloads']}: "
                             + (", ".join(gaps) if gaps else "ok"))
        if lines:
            print(f"{h.relative_to(args.root)}")
            print("\n".join(lines))
    print(f"\n{total} public functions; {missing_a} never called by a test; "
          f"{missing_b} fallible ones with no errno+message check; {waived_b} waived")
    return 0


if __name__ == "__main__":
    sys.exit(main())
