#!/usr/bin/env bash
# Static analysis of ospp's library and tool sources: clang-tidy (checks in .clang-tidy) and
# cppcheck (warning, performance, portability). Tests are not analysed: doctest's macros drown
# the signal. Exits non-zero on any finding.
# usage: scripts/static-analysis.sh BUILD_DIR   (a configured build with compile_commands.json)
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
status=0
sources=$(ls src/*.cpp tools/*.cpp 2>/dev/null)

echo "== clang-tidy ($(echo "$sources" | wc -w) files)"
# shellcheck disable=SC2086
if ! printf '%s\n' $sources | xargs -P 2 -n 4 clang-tidy -p "$build" --quiet >"$build/clang-tidy.log" 2>&1; then
    grep -E "(warning|error):" "$build/clang-tidy.log" | sort -u
    status=1
fi
echo "clang-tidy: $(grep -cE '(warning|error):' "$build/clang-tidy.log") findings"

echo "== cppcheck"
# passedByValue is off: ospp takes path_ref by value on purpose (it is built in place from the
# argument and cannot be copied), and fd_ref, string_view and spans are cheaper by value.
# shellcheck disable=SC2086
if ! cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c++20 --language=c++ \
    --enable=warning,performance,portability -D__linux__ -D_GNU_SOURCE -I include \
    --suppress=missingIncludeSystem --suppress=passedByValue $sources 2>"$build/cppcheck.log"; then
    status=1
fi
cat "$build/cppcheck.log"
echo "cppcheck: $(grep -c ': \(error\|warning\|performance\|portability\)' "$build/cppcheck.log") findings"
exit "$status"
