#!/usr/bin/env python3
"""Compiles every ```cpp block of README.md and docs/*.md against the public headers.

A learner copies these blocks, so a block that does not compile (a renamed function, an option
field out of order, a result used as its value) is a bug. Each block becomes a function in one
translation unit that includes <ospp/ospp.hpp>; a block that defines functions itself (`main`)
goes in as it is, in a namespace of its own (the first `main`, at global scope). `#include` lines
are moved to the top.

A block that uses names it does not declare (a `path`, an fd `w`, a `report` function) says what
they are in an HTML comment right before it, which Markdown does not show:

    <!-- snippet: ospp::fd_ref w; int report(const ospp::errno_error&); -->

The declarations go at namespace scope, before the block. `<!-- snippet: skip -->` leaves a block
out (say why in the text). `#line` directives make the compiler's messages point into the .md file.

usage: check_doc_snippets.py SOURCE_ROOT CXX [CXXFLAGS...]
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^(\s*)```cpp\s*$")
END = re.compile(r"^\s*```\s*$")
CONTEXT = re.compile(r"^\s*<!--\s*snippet:(.*)-->\s*$")
# A block with a function definition of its own (int main() {...}) is compiled at namespace scope.
DEFINES_FUNCTION = re.compile(r"^\w[\w:<>,\s\*&]*\s+\w+\([^;]*\)\s*(noexcept\s*)?\{", re.M)


def blocks(path):
    """Yields (first line number, context, body) for each ```cpp block of the file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent = len(m.group(1))
        context = None
        if i > 0:
            c = CONTEXT.match(lines[i - 1])
            if c:
                context = c.group(1).strip()
        j = i + 1
        while j < len(lines) and not END.match(lines[j]):
            j += 1
        yield i + 2, context, [line[indent:] for line in lines[i + 1:j]]
        i = j + 1


def translation_unit(root):
    # What a partial block may use without showing its #include.
    includes = ["#include <ospp/ospp.hpp>", "#include <poll.h>", "#include <cstdio>", "#include <iostream>"]
    parts = []
    count = 0
    main_used = False
    files = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    for path in files:
        rel = os.path.relpath(path, root)
        for first, context, body in blocks(path):
            if context == "skip":
                continue
            count += 1
            code = []
            for line in body:
                if line.startswith("#include"):
                    includes.append(line)
                    code.append("")
                else:
                    code.append(line)
            text = "\n".join(code)
            # The first `int main()` is the program's, at global scope (in a namespace it would be
            # an ordinary function, which must return a value); any other is wrapped like the rest.
            is_main = not main_used and re.search(r"^int main\(", text, re.M) is not None
            main_used = main_used or is_main
            if not is_main:
                parts.append(f"namespace snippet_{count} {{")
            if context:
                parts.append(f'#line {first - 2} "{rel}"')
                parts.append(context)
            if is_main or DEFINES_FUNCTION.search(text):
                parts.append(f'#line {first} "{rel}"')
                parts.append(text)
            else:
                parts.append("[[maybe_unused]] int run() {")
                parts.append(f'#line {first} "{rel}"')
                parts.append(text)
                parts.append("return 0;\n}")
            if not is_main:
                parts.append("}")
    return "\n".join(includes + parts) + "\n", count


def main():
    root, cxx, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
    source, count = translation_unit(root)
    if count == 0:
        print("no ```cpp block found: the docs moved, or the fence syntax changed")
        return 1
    with tempfile.NamedTemporaryFile("w", suffix=".cpp", delete=False) as f:
        f.write(source)
        tu = f.name
    try:
        # The build's warnings (warning_level=3), except about unused variables: the norm in a
        # snippet that shows one call.
        cmd = [cxx, "-std=c++20", "-fsyntax-only", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
               "-Wno-unused-variable", "-Wno-unused-but-set-variable", "-Wno-unused-parameter",
               "-Wno-unused-local-typedefs",
               "-I", os.path.join(root, "include"), *flags, tu]
        out = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(tu)
    if out.returncode != 0:
        print(out.stderr[:6000])
    print(f"{count} C++ blocks in README.md and docs/*.md, {'all compile' if out.returncode == 0 else 'FAILED'}")
    return 0 if out.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
